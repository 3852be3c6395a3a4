# A stand-in for `nix` in the image pipeline's tests (no nixpkgs exists on the test machines).
# Not run on its own: the per-test wrapper makeFakeNix writes (harness.ts) sets these variables and
# sources this file, so an invocation is one `sh` process running builtins only (every exec of a
# tool costs ~10 ms of CPU on a test machine, and a test runs dozens of evals and builds):
#   FAKE_NIX_LOG      every invocation is appended here
#   FAKE_NIX_HASH     the image's store hash     FAKE_NIX_IMAGE / FAKE_NIX_TOPLEVEL  the store paths
#   FAKE_NIX_OUT      the "build output" (the harness wrote it: a sparse raw image and its image-info.json)
#   FAKE_NIX_FAIL     1: the build fails with a long log
printf '%s\n' "$*" >>"$FAKE_NIX_LOG"
while [ "${1:-}" = "--extra-experimental-features" ]; do shift 2; done

case "${1:-}" in
  eval)
    printf '{"image":"%s","toplevel":"%s"}\n' "$FAKE_NIX_IMAGE" "$FAKE_NIX_TOPLEVEL"
    ;;
  build)
    if [ "$FAKE_NIX_FAIL" = "1" ]; then
      i=1
      while [ "$i" -le 50 ]; do
        echo "building '/nix/store/${FAKE_NIX_HASH}-step-$i.drv'..." >&2
        i=$((i + 1))
      done
      echo "error: builder for '/nix/store/${FAKE_NIX_HASH}-nixos-amazon-image.drv' failed with exit code 1" >&2
      exit 1
    fi
    echo "building '/nix/store/${FAKE_NIX_HASH}-nixos-amazon-image.drv'..." >&2
    echo "$FAKE_NIX_OUT"
    ;;
  *)
    echo "fake nix: unsupported command: $*" >&2
    exit 2
    ;;
esac
