"""
The bench's diagnostic endpoint (`bench.urls`), not part of the project's API: the floor of a
cached page under load.

A cached page pays one Redis round trip on top of what `health/live/` does: the `MGET` that
reads the user's version and row with the page's versions and the page (`RowCache.get`),
which exact revocation needs on every request. `RoundTripView` is `health/live/` plus that
`MGET` and nothing else, so its rate says how close to `health/live/` a page served with one
round trip can come.
"""

from django.core.cache import caches

from accounts.models import User
from config.views import LivenessView
from core.cache import read_many
from items.models import Item


def cached_page_keys(user_id) -> list:
    """
    The keys of the `MGET` a cached list page of the user sends: the user's version and
    row, the two page versions, a page key (one that holds nothing: its bytes are left out).
    """
    rows, pages = User.auth_cache, Item.page_cache
    return [
        rows.version_key(user_id),
        rows.entry_key(user_id),
        *pages.candidate_version_keys(user_id),
        f"{pages.namespace}:page:{user_id}",
    ]


class RoundTripView(LivenessView):
    """`health/live/` plus the one `MGET` of a cached page of the user in the URL."""

    def get(self, request, user_id):
        read_many(caches["strict"], cached_page_keys(str(user_id)))
        return super().get(request)
