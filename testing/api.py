from rest_framework.test import APIClient

from accounts.tokens import RefreshToken


def client_for(user):
    """An APIClient carrying a real access token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
