#!/usr/bin/env bash
# Builds the Debian package of Préau from this repository.
#   packaging/build-deb.sh            the release binary (what a commune installs)
#   packaging/build-deb.sh debug      the debug binary the tests built (CI checks the package)
# Writes target/debian/preau_VERSION_ARCH.deb and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
case "$profile" in
  release) cargo build --release --bin preau; bin=target/release/preau; compress=(-Zxz) ;;
  debug) cargo build --bin preau; bin=target/debug/preau; compress=(-Zgzip -z1) ;;
  *) echo "usage: $0 [release|debug]" >&2; exit 2 ;;
esac
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
arch=$(dpkg --print-architecture)
root=target/debian/root
rm -rf "$root"
install -D -m 0755 "$bin" "$root/usr/bin/preau"
install -D -m 0644 packaging/debian/preau.service "$root/lib/systemd/system/preau.service"
install -D -m 0640 packaging/debian/preau.env "$root/etc/preau/preau.env"
install -d "$root/usr/share/man/man1"
gzip -9n < packaging/preau.1 > "$root/usr/share/man/man1/preau.1.gz"
install -D -m 0644 README.md "$root/usr/share/doc/preau/README.md"
install -D -m 0644 ARCHITECTURE.md "$root/usr/share/doc/preau/ARCHITECTURE.md"
printf 'Préau\nLicence: AGPL-3.0-or-later\n' > "$root/usr/share/doc/preau/copyright"
install -d "$root/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm "$root/DEBIAN/"
echo /etc/preau/preau.env > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: preau
Version: $version
Architecture: $arch
Maintainer: Préau <preau@localhost>
Installed-Size: $size
Depends: libc6, adduser
Recommends: postgresql-client
Section: web
Priority: optional
Homepage: https://preau.invalid
Description: school IT platform for French local authorities
 Préau keeps a collectivité's school equipment (devices, rooms, classes), the
 teachers' problem reports with their contract deadlines on the school calendar,
 pupils' tablet loans, coverage against the référentiel, renewal, lessons by
 visio and the schools' links. One binary serves the web interface, the API and
 the inventory agents (OCS Inventory, FusionInventory, GLPI Agent).
CONTROL
out="target/debian/preau_${version}_${arch}.deb"
dpkg-deb "${compress[@]}" --build --root-owner-group "$root" "$out" >/dev/null
echo "$out"
