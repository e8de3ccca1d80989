from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from .tokens import fingerprint_matches


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication, refusing tokens that an account event has ended."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not fingerprint_matches(validated_token, user):
            raise AuthenticationFailed(_("The token has been revoked."), code="token_revoked")
        return user
