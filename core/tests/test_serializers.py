from accounts.serializers import AdminUserSerializer, UserSerializer


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
