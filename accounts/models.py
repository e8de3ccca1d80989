import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.cache import RowCache, UserPageCache

from .managers import UserManager
from .validators import clean_full_name, validate_email_characters


class User(AbstractBaseUser, PermissionsMixin):
    """An account identified by its email address, unique regardless of case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(
        "email address", max_length=254, unique=True, validators=[validate_email_characters]
    )
    email_verified = models.BooleanField(
        default=False, help_text="Whether the user has followed a link mailed to this address."
    )
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Whether the user can log into the admin site."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    tokens_valid_after = models.DateTimeField(
        default=timezone.now,
        help_text="Access and refresh tokens issued before this instant are refused.",
    )
    email_change_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the pending email change was requested; only its link is valid.",
    )

    objects = UserManager()
    # What JWT authentication needs of the user, exact (see `accounts.authentication`).
    auth_cache = RowCache("users", ttl_setting="USER_CACHE_TTL")
    # `users/me/`, a function of the row alone, served in authentication's round trip.
    me_page = UserPageCache(auth_cache, ttl_setting="USER_CACHE_TTL")

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["date_joined"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)
        self.full_name = clean_full_name(self.full_name)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email
