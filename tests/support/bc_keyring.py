"""The raw AES master key provider RDS writes with: provider "BC", key "DataKey",
AES-256-GCM with a 12-byte IV and a 16-byte tag (Java's JceMasterKey), built on
the official aws-encryption-sdk. Shared by the fixture and batch generators."""

import attr
from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.base import MasterKeyProviderConfig
from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider


@attr.s(hash=True)
class _BCProviderConfig(MasterKeyProviderConfig):
    """Provider config carrying the raw wrapping key bytes."""

    wrapping_key = attr.ib(hash=True, validator=attr.validators.instance_of(bytes))


class BCRawAesProvider(RawMasterKeyProvider):
    """Raw AES master key provider laid out like the Java JceMasterKey that RDS uses."""

    provider_id = "BC"
    _config_class = _BCProviderConfig

    def __init__(self, **kwargs):  # pylint: disable=unused-argument
        # Config handling happens in MasterKeyProvider.__new__.
        self._wrapping_key = WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=self.config.wrapping_key,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        )

    def _get_raw_key(self, key_id):
        return self._wrapping_key


def bc_provider(wrapping_key):
    """A provider holding the single master key "DataKey" for `wrapping_key`."""
    provider = BCRawAesProvider(wrapping_key=wrapping_key)
    provider.add_master_key(b"DataKey")
    return provider
