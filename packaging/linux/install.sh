#!/bin/sh
# Install the standalone SegView for the current user (or system-wide with a prefix):
#
#   ./install.sh                # into ~/.local: lib/segview, bin/segview, menu entry, icons
#   sudo ./install.sh /usr/local
#   ./install.sh --uninstall [PREFIX]
#
# Run it from the unpacked segview/ folder (the one holding the `segview` program).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
uninstall=0
if [ "${1:-}" = "--uninstall" ]; then uninstall=1; shift; fi
prefix=${1:-"$HOME/.local"}
app="$prefix/lib/segview"
desktop="$prefix/share/applications/segview.desktop"
svg="$prefix/share/icons/hicolor/scalable/apps/segview.svg"
png="$prefix/share/icons/hicolor/256x256/apps/segview.png"

refresh() {
    command -v update-desktop-database >/dev/null 2>&1 &&
        update-desktop-database -q "$prefix/share/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" || true
}

if [ "$uninstall" = 1 ]; then
    rm -rf "$app"
    rm -f "$prefix/bin/segview" "$desktop" "$svg" "$png"
    refresh
    echo "SegView removed from $prefix"
    exit 0
fi

[ -x "$here/segview" ] || { echo "install.sh: no segview program beside this script" >&2; exit 2; }
mkdir -p "$prefix/lib" "$prefix/bin" "$(dirname "$desktop")" "$(dirname "$svg")" "$(dirname "$png")"
if [ "$here" != "$app" ]; then
    rm -rf "$app"
    cp -R "$here" "$app"
fi
ln -sf "$app/segview" "$prefix/bin/segview"
# The menu entry names the program by its full path: ~/.local/bin is not always on PATH.
sed -e "s|^Exec=segview|Exec=\"$app/segview\"|" -e "s|^TryExec=segview|TryExec=$app/segview|" \
    "$here/share/applications/segview.desktop" > "$desktop"
cp "$here/share/icons/hicolor/scalable/apps/segview.svg" "$svg"
cp "$here/share/icons/hicolor/256x256/apps/segview.png" "$png"
refresh
echo "SegView installed: $prefix/bin/segview, and in the applications menu"
