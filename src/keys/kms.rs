//! AWS KMS `Decrypt` of the record's key blob, bound to the RDS encryption context.

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use futures::future::BoxFuture;

use super::{check_key_length, KeyContext, KeyError, KeyProvider, WrappingKey};

pub struct KmsKeys {
    client: aws_sdk_kms::Client,
}

impl KmsKeys {
    pub fn new(client: aws_sdk_kms::Client) -> KmsKeys {
        KmsKeys { client }
    }
}

/// Which KMS failures are permanent for these bytes (quarantine) and which may pass on retry.
fn classify<R>(err: SdkError<DecryptError, R>) -> KeyError {
    let permanent = |code: &'static str, detail: String| KeyError::Permanent { code, detail };
    match err {
        SdkError::ServiceError(service) => {
            let e = service.into_err();
            let detail = format!("{}: {}", e.code().unwrap_or("unknown"), e.message().unwrap_or(""));
            match &e {
                DecryptError::InvalidCiphertextException(_) => permanent("kms.invalid_ciphertext", detail),
                DecryptError::IncorrectKeyException(_) => permanent("kms.incorrect_key", detail),
                DecryptError::InvalidKeyUsageException(_) => permanent("kms.invalid_key_usage", detail),
                DecryptError::DisabledException(_)
                | DecryptError::NotFoundException(_)
                | DecryptError::KmsInvalidStateException(_) => permanent("kms.key_unavailable", detail),
                // KeyUnavailableException is KMS's own retryable 500: falls through to transient.
                _ if e.code() == Some("AccessDeniedException") => permanent("kms.access_denied", detail),
                // Throttling, KMSInternalException, DependencyTimeout and anything unknown.
                _ => KeyError::Transient(detail),
            }
        }
        other => KeyError::Transient(format!("{other}")),
    }
}

impl KeyProvider for KmsKeys {
    fn decrypt<'a>(&'a self, blob: &'a [u8], ctx: KeyContext<'a>) -> BoxFuture<'a, Result<WrappingKey, KeyError>> {
        Box::pin(async move {
            let out = self
                .client
                .decrypt()
                .ciphertext_blob(Blob::new(blob))
                .encryption_context(ctx.key, ctx.value)
                .send()
                .await
                .map_err(classify)?;
            let plaintext = out.plaintext.ok_or_else(|| KeyError::Transient("KMS returned no plaintext".into()))?;
            check_key_length(plaintext.into_inner(), "kms.bad_key_length")
        })
    }

    fn name(&self) -> &'static str {
        "kms"
    }
}
