#!/usr/bin/env bash
# Packaging CI (called by .ci/run after the tests): builds the Linux onedir and runs its --self-test, builds
# the MSI with wixl over that onedir as a stand-in payload (twice: this version and the next, for the
# upgrade), checks its tables with msiinfo, then under Wine installs it silently with deployment properties,
# checks the files and the registry, upgrades it without the properties (the values must survive) and
# uninstalls it. Prints each step's time, the sizes and the MSI property list. Any failure fails the run.
#
# Wine comes from apt (wine, wine64). Where it cannot be installed the script fails, saying so; set
# WARDVIEW_SKIP_WINE=1 to run everything else and report the Wine part as NOT RUN (never as passed).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
began=$(date +%s)
step() { echo "== package: $*"; step_began=$(date +%s); }
took() { echo "   ($(( $(date +%s) - step_began )) s)"; }
fail() { echo "package: FAILED: $*"; exit 1; }

step "tools (only what is missing: wixl msitools wine wine64 gnome-keyring dbus-daemon)"
needed=(wixl msitools gnome-keyring dbus-daemon)
[ "${WARDVIEW_SKIP_WINE:-0}" = 1 ] || needed+=(wine wine64)
missing=()
for pkg in "${needed[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "could not install ${missing[*]} from apt (set WARDVIEW_SKIP_WINE=1 to leave out the Wine part)"
fi
took

step "onedir (PyInstaller) and its self-test"
packaging/build_linux.sh .venv/bin/python
took

version=$(.venv/bin/python -c "import viewer; print(viewer.__version__)")
next=$(echo "$version" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')  # a stand-in newer version
out=build/msi
rm -rf "$out" && mkdir -p "$out"

step "MSI with wixl ($version, and $next for the upgrade)"
# wixl wants paths relative to where it runs; the two executables are declared in wardview.wxs itself.
find dist/wardview -type f ! -path dist/wardview/wardview ! -path dist/wardview/wardview-cli | sort \
  | wixl-heat -p dist/wardview/ --component-group CG.Payload --var var.SourceDir --directory-ref INSTALLDIR \
    --win64 > "$out/payload.wxs"
for v in "$version" "$next"; do
  # wixl warns that it ignores Secure="yes" (it writes its own SecureCustomProperties): expected, filtered.
  wixl -a x64 -D Version="$v" -D SourceDir=dist/wardview -D ExeSuffix= -D Win64=yes \
    -o "$out/wardview-$v.msi" packaging/windows/wardview.wxs "$out/payload.wxs" 2> "$out/wixl-$v.log" \
    || { cat "$out/wixl-$v.log"; fail "wixl could not build the MSI"; }
  grep -v -e "has no property named 'Secure'" -e '^$' "$out/wixl-$v.log" || true
done
msi="$out/wardview-$version.msi"
echo "   MSI: $(du -h "$msi" | cut -f1) ($(stat -c %s "$msi") bytes), onedir $(du -sh dist/wardview | cut -f1)"
took

step "MSI tables (msiinfo)"
.venv/bin/python packaging/check_msi.py "$msi" "$version" || fail "the MSI's tables are not as deployed PCs need"
took

if [ "${WARDVIEW_SKIP_WINE:-0}" = 1 ]; then
  echo "== package: WINE PART NOT RUN (WARDVIEW_SKIP_WINE=1): silent install, upgrade and uninstall untested"
  echo "package: done in $(( $(date +%s) - began )) s, WITHOUT the Wine install/upgrade/uninstall checks"
  exit 0
fi

step "Wine: silent install with properties, upgrade without them, uninstall"
export WINEPREFIX; WINEPREFIX=$(mktemp -d)/prefix
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml,winemenubuilder.exe=d"
trap 'wineserver -k 2>/dev/null || true; rm -rf "$(dirname "$WINEPREFIX")"' EXIT
wine wineboot --init >/dev/null 2>&1 || fail "wine could not make a prefix"
program="$WINEPREFIX/drive_c/Program Files/Wardview"
regvalue() {  # the data of HKLM\Software\Wardview[\sub] /v name, or nothing
  wine reg query "HKLM\\Software\\Wardview${2:-}" /v "$1" 2>/dev/null | tr -d '\r' \
    | awk -v n="$1" '$1 == n { sub(/^[ \t]*[^ \t]+[ \t]+REG_[A-Z_]+[ \t]*/, ""); print }'
}
expect() {  # setting, wanted value, when
  got=$(regvalue "$1")
  [ "$got" = "$2" ] || fail "$3: HKLM\\Software\\Wardview\\$1 is '$got', expected '$2'"
  echo "   $3: $1 = $2"
}
wine msiexec /i "$msi" /qn /l*v "$out/install.log" PDS_URL=https://pds.trust.example/FHIR/R4 \
  IDLE_LOCK_MINUTES=5 ODS_CODE=RXX99 "ORG_NAME=Wardview Test Hospital NHS Trust" ALLOW_SANDBOX=0 \
  || fail "silent install (see $out/install.log)"
for f in wardview.exe wardview-cli.exe _internal/viewer/ui/style.qss; do
  [ -f "$program/$f" ] || fail "install: $f missing from Program Files\\Wardview"
done
echo "   install: $(find "$program" -type f | wc -l) files in Program Files\\Wardview"
expect pds_url https://pds.trust.example/FHIR/R4 install
expect idle_lock_minutes 5 install
expect ods_code RXX99 install
expect org_name "Wardview Test Hospital NHS Trust" install
expect allow_sandbox 0 install
expect issuer "" "install (not given: empty, which the viewer reads as not set)"
[ "$(regvalue Version \\Install)" = "$version" ] || fail "install: Install\\Version is not $version"
wine reg query 'HKLM\Software\Classes\wardview\shell\open\command' 2>/dev/null | grep -q 'wardview.exe' \
  || fail "install: the wardview:// URL protocol is not registered"
find "$WINEPREFIX/drive_c" -iname 'Wardview.lnk' | grep -q . || fail "install: no Start menu shortcut"
echo "   install: Start menu shortcut at $(find "$WINEPREFIX/drive_c" -iname 'Wardview.lnk' | sed "s|$WINEPREFIX/||")"

wine msiexec /i "$out/wardview-$next.msi" /qn /l*v "$out/upgrade.log" || fail "silent upgrade (see $out/upgrade.log)"
expect pds_url https://pds.trust.example/FHIR/R4 "upgrade to $next"
expect idle_lock_minutes 5 "upgrade to $next"
expect org_name "Wardview Test Hospital NHS Trust" "upgrade to $next"
expect allow_sandbox 0 "upgrade to $next"
[ "$(regvalue Version \\Install)" = "$next" ] || fail "upgrade: Install\\Version is not $next"
products=$(wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' 2>/dev/null | tr -d '\r' \
  | grep -c '{' || true)
[ "$products" = 1 ] || fail "upgrade: $products products registered, expected the new one only"
echo "   upgrade: one product registered, the old one removed"

wine msiexec /x "$out/wardview-$next.msi" /qn /l*v "$out/uninstall.log" || fail "silent uninstall"
[ ! -e "$program/wardview.exe" ] || fail "uninstall: wardview.exe is still there"
if wine reg query 'HKLM\Software\Wardview' >/dev/null 2>&1; then fail "uninstall: HKLM\\Software\\Wardview remains"; fi
echo "   uninstall: files and HKLM\\Software\\Wardview removed"
took
echo "package: all packaging checks passed in $(( $(date +%s) - began )) s"
