//! A bounded TTL cache of decrypted wrapping keys, keyed by the KMS blob and
//! its encryption context. Concurrent misses on one blob share one provider
//! call; errors are never cached.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::{KeyContext, KeyError, KeyProvider, WrappingKey};

pub struct DataKeyCache {
    provider: Arc<dyn KeyProvider>,
    cache: Cache<Vec<u8>, Arc<WrappingKey>>,
    calls: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters since the cache was created (the handler reports per-invocation deltas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyStats {
    pub provider_calls: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
}

impl KeyStats {
    pub fn since(&self, earlier: &KeyStats) -> KeyStats {
        KeyStats {
            provider_calls: self.provider_calls - earlier.provider_calls,
            cache_hits: self.cache_hits - earlier.cache_hits,
            cache_misses: self.cache_misses - earlier.cache_misses,
        }
    }
}

fn cache_key(blob: &[u8], ctx: KeyContext<'_>) -> Vec<u8> {
    let mut k = Vec::with_capacity(blob.len() + ctx.key.len() + ctx.value.len() + 8);
    for part in [ctx.key.as_bytes(), ctx.value.as_bytes(), blob] {
        k.extend_from_slice(&(part.len() as u32).to_be_bytes());
        k.extend_from_slice(part);
    }
    k
}

impl DataKeyCache {
    pub fn new(provider: Arc<dyn KeyProvider>, capacity: u64, ttl: Duration) -> DataKeyCache {
        DataKeyCache {
            provider,
            cache: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            calls: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub async fn get(&self, blob: &[u8], ctx: KeyContext<'_>) -> Result<Arc<WrappingKey>, KeyError> {
        let ran = AtomicBool::new(false);
        let load = async {
            ran.store(true, Ordering::Relaxed);
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.provider.decrypt(blob, ctx).await.map(Arc::new)
        };
        let result = self.cache.try_get_with(cache_key(blob, ctx), load).await;
        let counter = if ran.load(Ordering::Relaxed) { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        result.map_err(|e| (*e).clone())
    }

    pub fn stats(&self) -> KeyStats {
        KeyStats {
            provider_calls: self.calls.load(Ordering::Relaxed),
            cache_hits: self.hits.load(Ordering::Relaxed),
            cache_misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;

    struct Slow(AtomicU64);
    impl KeyProvider for Slow {
        fn decrypt<'a>(&'a self, blob: &'a [u8], _: KeyContext<'a>) -> BoxFuture<'a, Result<WrappingKey, KeyError>> {
            Box::pin(async move {
                self.0.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                if blob == b"bad" {
                    return Err(KeyError::Transient("down".into()));
                }
                Ok(WrappingKey::new(vec![blob[0]; 32]))
            })
        }
        fn name(&self) -> &'static str {
            "slow"
        }
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_call_and_errors_are_not_cached() {
        let provider = Arc::new(Slow(AtomicU64::new(0)));
        let cache = DataKeyCache::new(provider.clone(), 100, Duration::from_secs(60));
        let ctx = KeyContext { key: "aws:rds:dbc-id", value: "cluster-1" };
        let gets: Vec<_> = (0..20).map(|i| cache.get(if i % 2 == 0 { b"a" } else { b"b" }, ctx)).collect();
        let keys = futures::future::join_all(gets).await;
        assert!(keys.iter().all(|k| k.is_ok()));
        assert_eq!(provider.0.load(Ordering::SeqCst), 2);
        let other_ctx = KeyContext { key: "aws:rds:dbc-id", value: "cluster-2" };
        cache.get(b"a", other_ctx).await.unwrap();
        assert_eq!(provider.0.load(Ordering::SeqCst), 3, "the context is part of the cache key");
        assert!(cache.get(b"bad", ctx).await.is_err());
        assert!(cache.get(b"bad", ctx).await.is_err());
        assert_eq!(provider.0.load(Ordering::SeqCst), 5);
        let s = cache.stats();
        assert_eq!((s.provider_calls, s.cache_misses, s.cache_hits), (5, 5, 18));
    }
}
