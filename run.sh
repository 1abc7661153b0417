#!/usr/bin/env bash
# Bootstrap .venv on first use (and again whenever pyproject.toml, setup.py or the C source
# changes), then:
#   ./run.sh test [pytest args]   runs the test suite
#   ./run.sh ...                  runs `python -m exporter ...` (export is the default command)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

want_extras=""
[ "${1:-}" = "test" ] && want_extras="[test]"
# The C extensions (exporter/canonical/*.c, exporter/sources/_pgcopy.c,
# exporter/validation/_csvscan.c) are compiled by the
# install, so their sources are in the stamp.
build_inputs=("$here/pyproject.toml" "$here/setup.py" "$here"/exporter/canonical/_{rowhash.c,rowtext.c,celltext.c,floattext.c,rowsums.c,marker.c,rowtext.h,exactsum.c,exactsum.h} "$here/exporter/sources/_pgcopy.c" "$here"/exporter/validation/_{csvscan.c,csvparse.c,csvcells.c,csvscan.h})
stamp="$venv/.installed-$(cat "${build_inputs[@]}" | sha1sum | cut -c1-12)${want_extras:+-test}"

if [ ! -x "$venv/bin/python" ]; then
    echo "run.sh: creating $venv (first run only)" >&2
    "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
    echo "run.sh: installing the exporter and its dependencies into .venv" >&2
    log="$venv/install.log"
    if ! { "$venv/bin/python" -m pip install --upgrade pip &&
           "$venv/bin/python" -m pip install -e "$here$want_extras"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "run.sh: installing failed; the full log is $log" >&2
        exit 2
    fi
    touch "$stamp"
fi

# Thick mode: the Oracle Client libraries must be on the loader path before Python starts.
config=""
prev=""
for arg in "$@"; do
    [ "$prev" = "--config" ] && config="$arg"
    case "$arg" in --config=*) config="${arg#--config=}" ;; esac
    prev="$arg"
done
if [ -n "$config" ] && [ -f "$config" ]; then
    lib_dir="$("$venv/bin/python" -m exporter.sources.loader_path "$config" 2>/dev/null || true)"
    if [ -n "$lib_dir" ]; then
        export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
fi

if [ "${1:-}" = "test" ]; then
    shift
    cd "$here"
    set +e
    "$venv/bin/python" -m pytest "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
        echo "run.sh: pytest collected no tests; treating that as a failure" >&2
        exit 1
    fi
    exit "$rc"
fi
exec "$venv/bin/python" -m exporter "$@"
