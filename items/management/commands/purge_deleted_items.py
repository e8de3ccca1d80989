from core.commands import PurgeDeletedCommand
from items.models import Item


class Command(PurgeDeletedCommand):
    model = Item
