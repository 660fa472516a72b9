//! A bounded TTL cache of decrypted wrapping keys, keyed by the KMS blob and
//! its encryption context. Concurrent misses on one blob share one provider
//! call; errors are never cached. A key can be asked for ahead of its batch (`warm`): the
//! batch's first lookup of it still counts as the miss it is.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;

use super::{KeyContext, KeyError, KeyProvider, WrappingKey};

pub struct DataKeyCache {
    provider: Arc<dyn KeyProvider>,
    cache: Cache<Vec<u8>, Arc<WrappingKey>>,
    calls: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Keys loaded by `warm` that no lookup has asked for yet (their first lookup is a miss).
    warmed: Mutex<HashSet<Vec<u8>>>,
    any_warmed: AtomicBool,
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
            warmed: Mutex::new(HashSet::new()),
            any_warmed: AtomicBool::new(false),
        }
    }

    fn warmed(&self) -> std::sync::MutexGuard<'_, HashSet<Vec<u8>>> {
        self.warmed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One provider call, counted (what a cache miss loads).
    async fn call(&self, blob: &[u8], ctx: KeyContext<'_>, ahead: bool) -> Result<Arc<WrappingKey>, KeyError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let key = self.provider.decrypt(blob, ctx).await.map(Arc::new);
        tracing::debug!(provider = self.provider.name(), ok = key.is_ok(), ahead, "key provider answered");
        key
    }

    /// Loads the key of `blob` into the cache ahead of its lookups, counting the provider call
    /// but no lookup. Errors are dropped: they are not cached, and the lookup meets them again.
    pub async fn warm(&self, blob: &[u8], ctx: KeyContext<'_>) {
        let key = cache_key(blob, ctx);
        let load = async {
            // Marked before the call, so that a lookup waiting on this load finds the mark.
            self.warmed().insert(key.clone());
            self.any_warmed.store(true, Ordering::Release);
            let result = self.call(blob, ctx, true).await;
            if result.is_err() {
                self.warmed().remove(&key);
            }
            result
        };
        let _ = self.cache.try_get_with(key.clone(), load).await;
    }

    pub async fn get(&self, blob: &[u8], ctx: KeyContext<'_>) -> Result<Arc<WrappingKey>, KeyError> {
        let ran = AtomicBool::new(false);
        let load = async {
            ran.store(true, Ordering::Relaxed);
            self.call(blob, ctx, false).await
        };
        let key = cache_key(blob, ctx);
        let result = self.cache.try_get_with(key.clone(), load).await;
        let first_after_warm =
            || self.any_warmed.load(Ordering::Acquire) && result.is_ok() && self.warmed().remove(&key);
        let counter = if ran.load(Ordering::Relaxed) || first_after_warm() { &self.misses } else { &self.hits };
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

    #[tokio::test]
    async fn a_warmed_key_is_one_call_and_its_first_lookup_a_miss() {
        let provider = Arc::new(Slow(AtomicU64::new(0)));
        let cache = DataKeyCache::new(provider.clone(), 100, Duration::from_secs(60));
        let ctx = KeyContext { key: "aws:rds:dbc-id", value: "cluster-1" };
        // Lookups that arrive while the warm-up's call is in flight wait for it.
        let gets = futures::future::join_all((0..3).map(|_| cache.get(b"a", ctx)));
        let (_, keys) = tokio::join!(cache.warm(b"a", ctx), gets);
        assert!(keys.iter().all(|k| k.as_ref().is_ok_and(|k| k.bytes() == [b'a'; 32])));
        cache.get(b"a", ctx).await.unwrap();
        let s = cache.stats();
        assert_eq!((s.provider_calls, s.cache_misses, s.cache_hits), (1, 1, 3));
        // A failed warm-up caches nothing: the lookup calls again and counts its miss.
        cache.warm(b"bad", ctx).await;
        assert!(cache.get(b"bad", ctx).await.is_err());
        let s = cache.stats();
        assert_eq!((s.provider_calls, s.cache_misses, s.cache_hits), (3, 2, 3));
        assert_eq!(provider.0.load(Ordering::SeqCst), 3);
    }
}
