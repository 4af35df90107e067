//! Velocity, rate limits and known payout beneficiaries in Redis, shared
//! by every replica.
//!
//! Each counter is a sorted set of events scored by their time, so windows
//! are exact and sliding. One Lua script per call does the eviction, the
//! reading and the recording atomically — one round trip per assess for
//! all five velocity dimensions, one per rate-limit check.
//!
//! The scripts apply the same window rules as `clausum_core::velocity` and
//! `clausum_core::ratelimit` (an event counts in a window when its age is
//! below the window; a window admits while fewer than `limit` events are
//! in it); `tests/api/counters.rs` checks them against the in-memory
//! versions on the same sequences.

use clausum_core::{
    beneficiaries::{PayoutFacts, PayoutKeys},
    ratelimit::RateDecision,
    velocity::{DimensionStats, HORIZON_MS, Observation, VelocitySnapshot, Window, WindowStats},
};
use redis::{Script, aio::ConnectionManager};

/// Sums beyond 2^53 lose precision in Lua's doubles; amounts are capped
/// at 10^15 minor units, so only extreme velocities come near it.
const VELOCITY_LUA: &str = r#"
local now = tonumber(ARGV[1])
local member = ARGV[2]
local record = ARGV[3] == '1'
local windows = { tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) }
local horizon = tonumber(ARGV[7])
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - horizon)
  local items = redis.call('ZRANGEBYSCORE', key, '(' .. (now - horizon), '+inf', 'WITHSCORES')
  local stats = { 0, 0, 0, 0, 0, 0 }
  for j = 1, #items, 2 do
    local age = now - tonumber(items[j + 1])
    local amount = tonumber(string.match(items[j], ':(-?%d+)$')) or 0
    for w = 1, 3 do
      if age < windows[w] then
        stats[2 * w - 1] = stats[2 * w - 1] + 1
        stats[2 * w] = stats[2 * w] + amount
      end
    end
  end
  if record then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, horizon + 60000)
  end
  out[i] = stats
end
return out
"#;

const RATE_LUA: &str = r#"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local allowed = 0
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  n = n + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = now
if #oldest == 2 then reset = tonumber(oldest[2]) + window end
return { allowed, limit - n, reset }
"#;

/// Records that an origin paid a beneficiary, as
/// `clausum_core::beneficiaries::KnownBeneficiaries::record` does: the
/// pair's first payment time (the earliest wins; the pair is known for
/// `ARGV[3]` ms after its latest payment), and for a new pair with an
/// origin (`KEYS[2]`), its first payment in the origin's sorted set of
/// first payments within the horizon. Returns 1 for a new pair.
const REMEMBER_LUA: &str = r#"
local at = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local known_for = tonumber(ARGV[3])
local first = redis.call('GET', KEYS[1])
if first then
  if tonumber(first) > at then redis.call('SET', KEYS[1], at) end
  redis.call('PEXPIRE', KEYS[1], known_for)
  return 0
end
redis.call('SET', KEYS[1], at, 'PX', known_for)
if #KEYS > 1 then
  redis.call('ZADD', KEYS[2], at, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', at - horizon)
  redis.call('PEXPIRE', KEYS[2], horizon + 60000)
end
return 1
"#;

/// Script calls per round trip when a replica seeds its recorded payouts.
const SEED_CHUNK: usize = 500;

/// Counters in one Redis database.
#[derive(Clone)]
pub struct RedisCounters {
    conn: ConnectionManager,
    velocity: Script,
    rate: Script,
    remember: Script,
    prefix: String,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisCounters {
    /// Connects to `url` (`redis://host:port/db`); keys start with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> redis::RedisResult<RedisCounters> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(1)))
            .set_response_timeout(Some(std::time::Duration::from_millis(500)))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisCounters {
            conn,
            velocity: Script::new(VELOCITY_LUA),
            rate: Script::new(RATE_LUA),
            remember: Script::new(REMEMBER_LUA),
            prefix: prefix.to_owned(),
        })
    }

    fn velocity_key(&self, k: &clausum_core::velocity::VelocityKey) -> String {
        format!("{}v:{}:{}", self.prefix, k.dimension.as_str(), hex::encode(k.digest.0))
    }

    /// Stats of earlier events for each of `obs`'s keys; records `obs`
    /// when `record` (a pre-check only peeks). `node` makes the event's
    /// member unique across replicas.
    pub async fn observe(
        &self,
        obs: &Observation,
        record: bool,
        node: &str,
    ) -> redis::RedisResult<VelocitySnapshot> {
        let mut snapshot = VelocitySnapshot::default();
        if obs.keys.is_empty() {
            return Ok(snapshot);
        }
        let mut inv = self.velocity.prepare_invoke();
        for k in &obs.keys {
            inv.key(self.velocity_key(k));
        }
        inv.arg(obs.at_ms)
            .arg(member(node, obs))
            .arg(if record { "1" } else { "0" })
            .arg(Window::TenMinutes.millis())
            .arg(Window::OneHour.millis())
            .arg(Window::OneDay.millis())
            .arg(HORIZON_MS);
        let rows: Vec<Vec<i64>> = inv.invoke_async(&mut self.conn.clone()).await?;
        for (k, row) in obs.keys.iter().zip(rows) {
            let mut stats = DimensionStats::default();
            for (w, pair) in row.chunks(2).enumerate().take(3) {
                stats.windows[w] = WindowStats {
                    count: u32::try_from(pair[0]).unwrap_or(u32::MAX),
                    sum_minor: pair.get(1).copied().unwrap_or(0),
                };
            }
            snapshot.by_dimension[k.dimension as usize] = Some(stats);
        }
        Ok(snapshot)
    }

    /// Withdraws an event recorded by [`RedisCounters::observe`].
    pub async fn withdraw(&self, obs: &Observation, node: &str) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        let m = member(node, obs);
        for k in &obs.keys {
            pipe.zrem(self.velocity_key(k), &m).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await
    }

    /// Admits one request counted under `bucket`: at most `limit` per
    /// sliding `window_ms`.
    pub async fn admit(
        &self,
        bucket: &str,
        limit: u32,
        window_ms: i64,
        now_ms: i64,
        unique: &str,
    ) -> redis::RedisResult<RateDecision> {
        let (allowed, remaining, reset): (i64, i64, i64) = self
            .rate
            .key(format!("{}r:{bucket}:{window_ms}", self.prefix))
            .arg(now_ms)
            .arg(window_ms)
            .arg(limit)
            .arg(unique)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(RateDecision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(0),
            reset_at_ms: reset,
        })
    }

    fn pair_key(&self, keys: &PayoutKeys) -> String {
        format!("{}b:pair:{}", self.prefix, hex::encode(keys.pair.0))
    }

    fn firsts_key(&self, origin: &clausum_core::digest::Digest) -> String {
        format!("{}b:firsts:{}", self.prefix, hex::encode(origin.0))
    }

    /// What every replica knows of a payout's beneficiary at `now_ms`,
    /// counting new beneficiaries over the last `window_ms` (the same
    /// answer as `KnownBeneficiaries::facts`). One round trip.
    pub async fn beneficiary_facts(
        &self,
        keys: &PayoutKeys,
        now_ms: i64,
        window_ms: i64,
    ) -> redis::RedisResult<PayoutFacts> {
        let mut pipe = redis::pipe();
        pipe.exists(self.pair_key(keys));
        if let Some(origin) = &keys.origin {
            // A first payment counts while its age is below the window.
            pipe.zcount(self.firsts_key(origin), format!("({}", now_ms - window_ms), "+inf");
        }
        let out: Vec<i64> = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(PayoutFacts {
            beneficiary_known: Some(out.first().is_some_and(|&n| n > 0)),
            new_beneficiaries_in_window: out
                .get(1)
                .map_or(0, |&n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
        })
    }

    /// Records payouts that were not declined, each as `(keys, at_ms)`:
    /// the origin paid the beneficiary, and every replica knows it for
    /// `known_for_ms` after the latest payment. Many at once (a replica
    /// seeding what it recorded) go [`SEED_CHUNK`] per round trip.
    pub async fn remember_beneficiaries(
        &self,
        payouts: &[(PayoutKeys, i64)],
        known_for_ms: i64,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        if payouts.is_empty() {
            return Ok(());
        }
        if let [(keys, at)] = payouts {
            let (script_keys, args) = self.remember_args(keys, *at, known_for_ms);
            let mut inv = self.remember.prepare_invoke();
            for k in script_keys {
                inv.key(k);
            }
            for a in args {
                inv.arg(a);
            }
            return inv.invoke_async::<i64>(&mut conn).await.map(|_| ());
        }
        // Loaded once, then called by its hash in pipelines.
        self.remember.load_async(&mut conn).await?;
        for chunk in payouts.chunks(SEED_CHUNK) {
            let mut pipe = redis::pipe();
            for (keys, at) in chunk {
                let (script_keys, args) = self.remember_args(keys, *at, known_for_ms);
                pipe.cmd("EVALSHA")
                    .arg(self.remember.get_hash())
                    .arg(script_keys.len())
                    .arg(script_keys)
                    .arg(&args)
                    .ignore();
            }
            pipe.query_async::<()>(&mut conn).await?;
        }
        Ok(())
    }

    /// The keys and arguments of one [`REMEMBER_LUA`] call.
    fn remember_args(
        &self,
        keys: &PayoutKeys,
        at_ms: i64,
        known_for_ms: i64,
    ) -> (Vec<String>, [String; 4]) {
        let mut script_keys = vec![self.pair_key(keys)];
        script_keys.extend(keys.origin.as_ref().map(|o| self.firsts_key(o)));
        let args = [
            at_ms.to_string(),
            clausum_core::beneficiaries::HORIZON_MS.to_string(),
            known_for_ms.to_string(),
            hex::encode(keys.pair.0),
        ];
        (script_keys, args)
    }

    /// Round trip (health).
    pub async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query_async::<String>(&mut self.conn.clone()).await.map(|_| ())
    }
}

/// The sorted-set member of an event: unique per replica and observation,
/// carrying the amount the sums need.
fn member(node: &str, obs: &Observation) -> String {
    format!("{node}:{}:{}", obs.id, obs.amount_minor)
}
