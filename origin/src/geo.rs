//! IP → country, from an MMDB file (`CLAUSUM_GEOIP_DB`).
//!
//! The data is the CC BY 4.0 "geo-whois-asn-country" database (NRO whois,
//! GeoFeed and ASN data, merged by the ip-location-db project) shipped in
//! the npm package `@ip-location-db/geo-whois-asn-country-mmdb`;
//! `scripts/fetch-geoip.sh` fetches the pinned version into `data/`.
//! Without a database the IP-country signals simply do not fire.

use std::{net::IpAddr, path::Path};

use clausum_core::normalize::Country;
use serde::Deserialize;

/// Where `scripts/fetch-geoip.sh` puts the database; used when
/// `CLAUSUM_GEOIP_DB` is not set and the file exists.
pub const DEFAULT_PATH: &str = "data/geo-whois-asn-country.mmdb";

/// An opened country database.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

#[derive(Deserialize)]
struct Record<'a> {
    country_code: Option<&'a str>,
}

impl GeoIp {
    /// Reads the whole database into memory (about 8 MB).
    pub fn open(path: &Path) -> anyhow::Result<GeoIp> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| anyhow::anyhow!("opening GeoIP database {}: {e}", path.display()))?;
        Ok(GeoIp { reader })
    }

    /// The configured database: `configured` if given (an error if it
    /// does not open), else [`DEFAULT_PATH`] if present, else none.
    pub fn from_config(configured: Option<&Path>) -> anyhow::Result<Option<GeoIp>> {
        match configured {
            Some(p) => GeoIp::open(p).map(Some),
            None if Path::new(DEFAULT_PATH).exists() => {
                GeoIp::open(Path::new(DEFAULT_PATH)).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The country an address is registered or located in, if known.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let found = self.reader.lookup(ip).ok()?;
        let record: Record<'_> = found.decode().ok()??;
        Country::parse(record.country_code?).ok()
    }
}
