"""
Receivers that keep `User.auth_cache` exact: a changed or deleted user gets a fresh version in
it once the transaction commits. They only bump, never carry logic. Queryset updates send no
signal and bump in `UserQuerySet.update` instead.
"""


def bump_auth_cache_on_save(sender, instance, using, created, **kwargs):
    # A new user has nothing cached yet (a deleted one's id was bumped when it went).
    if not created:
        sender.auth_cache.bump_on_commit([instance.pk], using=using)


def bump_auth_cache_on_delete(sender, instance, using, **kwargs):
    # With the bumps of the pages its rows leave by cascade: one round trip.
    sender.auth_cache.bump_on_commit([instance.pk], using=using, with_pages=True)
