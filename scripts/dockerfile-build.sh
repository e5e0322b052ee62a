#!/usr/bin/env bash
# Run the Dockerfile's build outside a container: the test suite has no container engine, so
# this is how it checks that the image's build commands still work.
#
# The commands are read from the Dockerfile itself (the RUN lines of the stage named `builder`,
# cache mounts dropped), so this script cannot drift from it. They run, as `sh -c` like Docker
# runs them, in a copy of the build context: the paths `.dockerignore` lets in, taken from the
# working tree (tracked and untracked files, not ignored ones). The copy keeps file times and a
# fixed place, and the build uses the workspace's target folder, so a second run only rebuilds
# what changed. Then the file the final stage copies out of the builder must run `--version`.
#
# Usage: scripts/dockerfile-build.sh
#   Progress goes to stderr; the last line on stdout is the built binary.
#   CARGO_TARGET_DIR overrides the target folder (default: target/ of the repository).
#   Understands the instructions the Dockerfile uses (WORKDIR, `COPY . .`, RUN in the builder;
#   `COPY --from=builder` in the final stage) and fails on any other, rather than guess.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

log() { printf 'dockerfile-build: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[[ -f Dockerfile && -f .dockerignore ]] || die "Dockerfile or .dockerignore is missing"
command -v git >/dev/null 2>&1 || die "git is not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$REPO is not a git working tree"

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
CONTEXT="$TARGET/dockerfile-build/context"

# Instructions one per line: comment lines dropped (also inside continuations, as Docker does),
# `\` continuations joined.
mapfile -t LINES < <(awk '
	/^[[:space:]]*#/ { next }
	{
		line = line $0
		if ($0 ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, " ", line); next }
		if (line ~ /[^[:space:]]/) print line
		line = ""
	}
	END { if (line ~ /[^[:space:]]/) print line }
' Dockerfile)

STAGE="" WORKDIR="/" RUST_VERSION="" ARTIFACT=""
RUNS=()
for line in "${LINES[@]}"; do
	read -r instruction rest <<<"$line"
	instruction=${instruction^^}
	case "$instruction" in
	ARG)
		[[ $rest =~ ^RUST_VERSION=(.+)$ ]] && RUST_VERSION=${BASH_REMATCH[1]}
		;;
	FROM)
		if [[ ${rest,,} =~ [[:space:]]as[[:space:]]+([a-z0-9_.-]+)$ ]]; then
			STAGE=${BASH_REMATCH[1]}
		else
			STAGE=final
		fi
		;;
	*)
		case "$STAGE/$instruction" in
		builder/WORKDIR) WORKDIR=$rest ;;
		builder/COPY)
			[[ $rest == ". ." ]] || die "builder: only 'COPY . .' is understood, not: COPY $rest"
			;;
		builder/RUN)
			[[ $rest != \[* ]] || die "builder: the exec form of RUN is not understood: RUN $rest"
			# Build-time options (cache mounts, network) mean nothing outside a container.
			while [[ $rest =~ ^--(mount|network|security)=[^[:space:]]+[[:space:]]+(.*)$ ]]; do
				rest=${BASH_REMATCH[2]}
			done
			RUNS+=("$rest")
			;;
		builder/*) die "builder: $instruction is not understood; teach $0" ;;
		final/COPY)
			if [[ $rest =~ ^--from=builder[[:space:]]+([^[:space:]]+)[[:space:]]+[^[:space:]]+$ ]]; then
				ARTIFACT=${BASH_REMATCH[1]}
			fi
			;;
		esac
		;;
	esac
done
((${#RUNS[@]} > 0)) || die "found no RUN in a stage named builder (FROM ... AS builder)"
[[ -n $ARTIFACT ]] || die "the final stage has no 'COPY --from=builder <file> <dest>'"
case "$ARTIFACT" in
"${WORKDIR%/}"/*) ARTIFACT=${ARTIFACT#"${WORKDIR%/}"/} ;;
/*) die "the final stage copies $ARTIFACT, outside the builder's WORKDIR $WORKDIR" ;;
esac

if [[ -n $RUST_VERSION ]] && command -v rustc >/dev/null 2>&1; then
	HOST_RUST=$(rustc --version | awk '{ print $2 }')
	if [[ $(printf '%s\n%s\n' "$RUST_VERSION" "$HOST_RUST" | sort -V | head -n 1) != "$RUST_VERSION" ]]; then
		log "warning: rustc $HOST_RUST here is older than the image's Rust $RUST_VERSION"
	fi
fi

# The context: `*` then `!path` lines, the allowlist form this script understands.
mapfile -t PATTERNS < <(grep -v '^[[:space:]]*\(#\|$\)' .dockerignore)
[[ ${PATTERNS[0]:-} == "*" ]] || die ".dockerignore must start with '*' (an allowlist of '!path' lines)"
INCLUDED=()
for pattern in "${PATTERNS[@]:1}"; do
	[[ $pattern == !* ]] || die ".dockerignore: only '!path' lines may follow '*', not: $pattern"
	path=${pattern#!}
	path=${path#/}
	[[ -e $path ]] || die ".dockerignore lets in $path, which does not exist"
	INCLUDED+=("$path")
done

log "context: ${INCLUDED[*]} -> $CONTEXT"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
git ls-files --cached --others --exclude-standard -z -- "${INCLUDED[@]}" |
	while IFS= read -r -d '' file; do
		# Files deleted in the working tree but still in the index are not in the context.
		[[ -e $file ]] && printf '%s\0' "$file"
	done |
	tar --create --null --files-from=- | tar --extract --directory="$CONTEXT"

START=$SECONDS
for command in "${RUNS[@]}"; do
	log "RUN $command"
	(cd "$CONTEXT" && CARGO_TARGET_DIR=$TARGET sh -c "$command") >&2 ||
		die "the Dockerfile's command failed: $command"
done
log "built in $((SECONDS - START))s"

BINARY="$CONTEXT/$ARTIFACT"
[[ -x $BINARY ]] || die "the builder did not produce $ARTIFACT (what the final stage copies)"
VERSION=$("$BINARY" --version) || die "$BINARY --version failed"
[[ $VERSION == kubezone\ * ]] || die "$BINARY --version printed '$VERSION'"
log "$VERSION"
printf '%s\n' "$BINARY"
