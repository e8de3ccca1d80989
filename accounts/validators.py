"""Rules for what users type in: email characters, names, password length."""

import re
import unicodedata

from django.core.exceptions import ValidationError

# Hashing is slow on purpose, so an unbounded password is a cheap way to burn a server's CPU.
# Longer passwords are refused before anything hashes them.
PASSWORD_MAX_LENGTH = 1024

# Default_Ignorable_Code_Point characters outside the "C" (other) and "Z" (separator) Unicode
# categories, which the category test below already refuses (Unicode 15, DerivedCoreProperties).
_IGNORABLE_LETTERS_AND_MARKS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
# Line breaks, tabs and other controls in a name; bidirectional overrides and isolates, which
# can make text read backwards in an email.
_NAME_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
_NAME_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def validate_email_characters(value: str) -> None:
    """
    Refuse invisible and control characters in an address.

    Django's email validator accepts any character from U+00A1 on in the domain. Mail systems
    drop zero-width spaces, soft hyphens and the like when they map a domain to its ASCII form,
    so `a@exam\u00adple.com` would register as a separate account that delivers to someone
    else's mailbox.
    """
    if _IGNORABLE_LETTERS_AND_MARKS.search(value) or any(
        unicodedata.category(char)[0] in "CZ" for char in value
    ):
        raise ValidationError(
            "Enter an email address without spaces, invisible or control characters.",
            code="invalid_characters",
        )


def clean_full_name(value: str) -> str:
    """A name on one line: line breaks become spaces, other control characters go."""
    return _NAME_CONTROLS.sub("", _NAME_BREAKS.sub(" ", value)).strip()


class MaximumLengthValidator:
    """Django password validator: the cap for forms and commands (the API checks it first)."""

    def __init__(self, max_length=PASSWORD_MAX_LENGTH):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                "This password is too long. It must contain at most %(max_length)d characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self):
        return f"Your password must contain at most {self.max_length} characters."
