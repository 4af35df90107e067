//! Counters that must agree across replicas: velocity and rate limits.
//!
//! One node keeps them in memory (`MemoryVelocity`, `RateLimiter`); several
//! replicas keep them in Redis ([`redis::RedisCounters`]) so that two
//! replicas see the same counts. Which one is in use is decided at start
//! from `CLAUSUM_REDIS_URL`; a replica sharing PostgreSQL without Redis
//! refuses to start unless told it is alone (`CLAUSUM_SINGLE_NODE`).

pub mod redis;

pub use self::redis::RedisCounters;
