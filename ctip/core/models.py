"""Shared building blocks: per-record data keys and encrypted model fields."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone

from ctip.core import crypto


class DataKey(models.Model):
    """One AES key per person or case, wrapped by the node's active master key.

    Destroying ``wrapped`` (``core.services.data_keys_shred``, the one way to do it) makes
    every value encrypted under it unreadable, in this database and in every backup taken
    before.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_id = models.CharField(max_length=64, db_index=True)
    wrapped = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    shredded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shredded_at__isnull=True, wrapped__gt="")
                | models.Q(shredded_at__isnull=False, wrapped=""),
                name="datakey_wrapped_unless_shredded",
            )
        ]

    def __str__(self) -> str:
        return f"data key {self.pk}"

    @property
    def aad(self) -> bytes:
        return f"datakey|{self.pk}".encode()

    @classmethod
    def issue(cls) -> DataKey:
        ring = crypto.get_keyring()
        key = cls(id=uuid.uuid4())
        key.kek_id, key.wrapped = ring.wrap(secrets.token_bytes(32), key.aad)
        key.save(force_insert=True)
        return key

    def secret(self) -> bytes:
        if self.shredded_at is not None or not self.wrapped:
            raise crypto.ShreddedError(f"data key {self.pk} was destroyed (crypto-shredded)")
        cached = self.__dict__.get("_secret")
        if cached is None or cached[0] != (self.kek_id, self.wrapped):
            plain = crypto.get_keyring().unwrap(self.kek_id, self.wrapped, self.aad)
            cached = ((self.kek_id, self.wrapped), plain)
            self.__dict__["_secret"] = cached
        return cached[1]


class Sealed(str):
    """A ciphertext as read from the database, not yet decrypted."""

    __slots__ = ()


PREFIX = "e1"


class EncryptedAttribute(DeferredAttribute):
    """Decrypts on first access, so rows that are listed but not shown cost no decryption."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.decrypt(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        # A data descriptor, so that reads always pass through __get__ (and decrypt).
        instance.__dict__[self.field.attname] = value


class DataKeyField(models.ForeignKey):
    """The record's data key; issued on first save when the record has none yet."""

    def __init__(self, **kwargs):
        kwargs.setdefault("to", "core.DataKey")
        kwargs.setdefault("on_delete", models.PROTECT)
        kwargs.setdefault("related_name", "+")
        kwargs.setdefault("editable", False)
        super().__init__(**kwargs)

    def pre_save(self, model_instance, add):
        if getattr(model_instance, self.attname) is None:
            setattr(model_instance, self.name, DataKey.issue())
        return super().pre_save(model_instance, add)


class EncryptedTextField(models.TextField):
    """Text stored as AES-GCM ciphertext under the record's data key.

    The model must have a UUID primary key (set before insert, so it can be bound into the
    associated data) and a ``data_key`` field. Lookups on the column are refused: search
    goes through keyed index tokens (``crypto.index_token``).
    """

    descriptor_class = EncryptedAttribute

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def aad(self, instance) -> bytes:
        meta = instance._meta
        return f"{meta.label_lower}.{self.attname}|{instance.pk}|{instance.data_key_id}".encode()

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        key = model_instance.data_key.secret()
        blob = crypto.aes_seal(key, str(value).encode(), self.aad(model_instance))
        return Sealed(f"{PREFIX}:{base64.b64encode(blob).decode()}")

    def get_prep_value(self, value):
        if value is None or isinstance(value, Sealed):
            return None if value is None else str(value)
        raise ValueError(
            f"{self.model.__name__}.{self.attname}: plain text must not reach an encrypted column "
            "(save the object through its service instead of QuerySet.update)"
        )

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def decrypt(self, instance, token: Sealed) -> str:

        prefix, _, body = token.partition(":")
        label = f"{instance._meta.label}.{self.attname} of {instance.pk}"
        if prefix != PREFIX:
            raise crypto.DecryptionError(f"{label} is not an encrypted value")
        key = instance.data_key.secret()
        plain = crypto.aes_open(key, base64.b64decode(body), self.aad(instance), what=label)
        return plain.decode()

    def value_to_string(self, obj):
        return ""  # never serialise plaintext (dumpdata, fixtures)
