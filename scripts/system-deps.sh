#!/bin/sh
# Installs the Debian packages Earshot needs when they are missing (as root), or says which to install.
#   libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core: WeasyPrint (PDF meeting packs)
#   fonts-noto-cjk: Chinese text (Hong Kong, Mandarin queues) in PDF packs and pages, instead of empty boxes
#   poppler-utils: pdftotext/pdftoppm to check PDFs in tests
#   espeak-ng sox: synthesise the demo calls and test audio
#   dovecot-imapd: a throw-away IMAP server for the IMAP connector test
#   alsa-utils: its /usr/share/sounds/alsa/*.wav are real recorded speech ("Front Left", ...), a speech test
#               checks the real model on them (GPL-2, recorded for ALSA's speaker-test)
#   chromium: browser tests (Playwright drives Debian's Chromium; nothing is downloaded)
set -eu
PACKAGES="${EARSHOT_APT_PACKAGES:-libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-cjk poppler-utils espeak-ng sox dovecot-imapd alsa-utils chromium}"
missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != "0" ]; then
    echo "Earshot needs these Debian packages; install them as root:" >&2
    echo "    apt-get install -y$missing" >&2
    exit 1
fi
echo "installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y --no-install-recommends $missing
}
