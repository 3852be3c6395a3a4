#!/usr/bin/env bash
# A stand-in for `nix` in the image pipeline's tests (no nixpkgs exists on the test machines).
# Settings come from the environment a per-test wrapper exports (see harness.ts):
#   FAKE_NIX_STORE  folder holding "build outputs"      FAKE_NIX_SEED   changes the identity
#   FAKE_NIX_LOG    every invocation is appended here   FAKE_NIX_FAIL   1: the build fails
#   FAKE_NIX_SIZE_MIB / FAKE_NIX_DATA_MIB  sparse image size and how much of it holds data
set -euo pipefail
echo "$*" >>"${FAKE_NIX_LOG:?}"
while [ "${1:-}" = "--extra-experimental-features" ]; do shift 2; done
command="${1:-}"

# 32 characters of Nix's base32 alphabet, derived from the seed: a plausible store hash.
store_hash() {
  printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0123456789abcdef' '0123456789abcdfg' | tr 'e' 'x'
}
image_hash="$(store_hash "image-${FAKE_NIX_SEED:?}")"
toplevel_hash="$(store_hash "toplevel-${FAKE_NIX_SEED}")"

case "$command" in
  eval)
    printf '{"image":"/nix/store/%s-nixos-amazon-image-25.11-x86_64-linux","toplevel":"/nix/store/%s-nixos-system-clawdinator-25.11"}\n' "$image_hash" "$toplevel_hash"
    ;;
  build)
    if [ "${FAKE_NIX_FAIL:-0}" = "1" ]; then
      for i in $(seq 1 50); do echo "building '/nix/store/${image_hash}-step-$i.drv'..." >&2; done
      echo "error: builder for '/nix/store/${image_hash}-nixos-amazon-image.drv' failed with exit code 1" >&2
      exit 1
    fi
    out="${FAKE_NIX_STORE:?}/${image_hash}-nixos-amazon-image"
    if [ ! -f "$out/nixos.raw" ]; then
      mkdir -p "$out/nix-support"
      size_mib="${FAKE_NIX_SIZE_MIB:-256}"
      data_mib="${FAKE_NIX_DATA_MIB:-16}"
      truncate -s "${size_mib}M" "$out/nixos.raw"
      # Data in four runs spread over the disk (like a partition table, boot files, store, tail).
      run_mib=$(( data_mib / 4 ))
      for slot in 0 1 2 3; do
        offset_mib=$(( slot * (size_mib - run_mib) / 3 ))
        head -c "$(( run_mib * 1048576 ))" /dev/urandom | dd of="$out/nixos.raw" bs=1M seek="$offset_mib" conv=notrunc status=none
      done
      printf '{"label":"25.11","system":"x86_64-linux","boot_mode":"uefi","disks":{"root":{"file":"%s"}}}\n' "$out/nixos.raw" >"$out/nix-support/image-info.json"
    fi
    echo "building '/nix/store/${image_hash}-nixos-amazon-image.drv'..." >&2
    echo "$out"
    ;;
  *)
    echo "fake nix: unsupported command: $*" >&2
    exit 2
    ;;
esac
