from rest_framework import serializers

from accounts.serializers import AdminUserSerializer, UserSerializer
from core.serializers import ModelSerializer
from items.models import Item


def test_fields_built_once_are_a_fresh_copy_for_each_serializer():
    first, second = UserSerializer(), UserSerializer()
    first.fields["full_name"].read_only = True

    assert second.fields["full_name"].read_only is False
    assert first.fields["full_name"] is not second.fields["full_name"]
    assert second.fields["full_name"].parent is second


def test_a_subclass_builds_its_own_fields():
    # The parent's fields are built first: a subclass must not take them over.
    assert "password" not in UserSerializer().fields
    assert "password" in AdminUserSerializer().fields


def test_a_copys_validators_and_messages_are_its_own():
    first, second = UserSerializer(), UserSerializer()
    first.fields["full_name"].validators.append(lambda value: None)
    first.fields["full_name"].error_messages["blank"] = "changed"

    assert len(second.fields["full_name"].validators) == len(
        UserSerializer().fields["full_name"].validators
    )
    assert second.fields["full_name"].error_messages["blank"] != "changed"


class TaggedItemSerializer(ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = Item
        fields = ["id", "title", "tags"]


def test_a_field_holding_a_child_gets_its_own_bound_child():
    first, second = TaggedItemSerializer(), TaggedItemSerializer()

    assert first.fields["tags"].child is not second.fields["tags"].child
    assert second.fields["tags"].child.parent is second.fields["tags"]
    assert second.fields["tags"].root is second
