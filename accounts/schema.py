from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTScheme(SimpleJWTScheme):
    """Documents accounts.authentication.JWTAuthentication as the bearer scheme it is."""

    target_class = "accounts.authentication.JWTAuthentication"
