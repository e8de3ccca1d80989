from django.contrib.auth.base_user import BaseUserManager
from django.db import models


class UserQuerySet(models.QuerySet):
    """
    Users, kept exact in `User.auth_cache` by bulk writes too.

    `update()` sends no `post_save`, so it bumps the rows it changes itself: once, for all of
    them, after the commit (`bulk_update` goes through it, a bump per batch). The rows are
    read first and the UPDATE is confined to them, so no row changes without its bump, not
    even one that starts to match the filter in between.
    """

    def update(self, **kwargs):
        pks = list(self.order_by().values_list("pk", flat=True))
        if not pks:
            return 0
        count = super(UserQuerySet, self.filter(pk__in=pks)).update(**kwargs)
        if count:
            self.model.auth_cache.bump_on_commit(pks, using=self.db)
        return count

    update.alters_data = True


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    """Creates users whose login is their email address."""

    use_in_migrations = True

    def get_by_natural_key(self, email):
        # Emails are unique regardless of case, so logins are too.
        return self.get(email__iexact=email)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)
