# nixpkgs' lib from the nixpkgs that `flake` (hypervisor/flake.nix) names as its input, fetched the
# way that input is, and read in place: getFlake of the checkout would copy all of it (node_modules
# included) into the store for every evaluation, and it has no lock file to use anyway.
# `fetch` is for tests: it shows which input would be fetched without fetching it.
{ flake, fetch ? builtins.fetchTree }:
let
  url = (import flake).inputs.nixpkgs.url;
  github = builtins.match "github:([^/]+)/([^/]+)(/(.+))?" url;
  path = builtins.match "path:(.+)" url;
  input =
    if github != null then
      { type = "github"; owner = builtins.elemAt github 0; repo = builtins.elemAt github 1; }
      // (if builtins.elemAt github 3 == null then { } else { ref = builtins.elemAt github 3; })
    else if path != null then { type = "path"; path = builtins.head path; }
    else { type = "tarball"; inherit url; };
in
import ((fetch input).outPath + "/lib")
