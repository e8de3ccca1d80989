from core.commands import PurgeDeletedCommand
from core.tests.notes.models import Note


class Command(PurgeDeletedCommand):
    model = Note
