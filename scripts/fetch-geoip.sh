#!/usr/bin/env bash
# Fetches the IP → country database from the npm registry into data/.
# Pinned: @ip-location-db/geo-whois-asn-country-mmdb 2.3.2026061719
# (data of 2026-06-17; CC BY 4.0, NRO — see data/GEOIP_LICENSE).
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.3.2026061719
target=data/geo-whois-asn-country.mmdb
stamp=data/.geoip-version
if [ -f "$target" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "GeoIP database $version already in $target"
  exit 0
fi
mkdir -p data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@ip-location-db/geo-whois-asn-country-mmdb@$version" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp"
cp "$tmp/package/geo-whois-asn-country.mmdb" "$target"
{
  echo "IP → country data: @ip-location-db/geo-whois-asn-country-mmdb $version (npm)."
  echo "Licence: CC BY 4.0 by the NRO (https://creativecommons.org/licenses/by/4.0/)."
  cat "$tmp/package/NRO_LICENSE"
} > data/GEOIP_LICENSE
echo "$version" > "$stamp"
echo "GeoIP database $version written to $target"
