# The three ChoirOS packages, defined once. Every flake (hypervisor/, nix/sandbox/, nix/desktop/ and
# the top-level one) calls this with its `nixpkgs` input's package set, so what is built is the same
# program whether that set is the real nixpkgs (GitHub runners, a workstation) or the offline
# stand-in this checkout generates where nixpkgs cannot be reached (nix/offline/package-set.ts):
# the two differ only in where Node 24, the shell and the npm dependencies come from.
#
# From the package set this uses only: nodejs_24, runtimeShell, runCommand,
# importNpmLock.buildNodeModules. The build scripts are plain POSIX sh (bash+coreutils or busybox).
{ pkgs }:
let
  root = toString ../.;
  relative = path: builtins.substring (builtins.stringLength root + 1) (-1) (toString path);
  hasSuffix = suffix: s:
    let n = builtins.stringLength s; m = builtins.stringLength suffix;
    in n >= m && builtins.substring (n - m) m s == suffix;
  # The hypervisor and sandbox sources: package.json and hypervisor/, without tests, test helpers,
  # the image builder, the flakes, and the desktop's static assets (their own package below).
  # Test helpers live in folders named testing, wherever a new one appears.
  excluded = [ "hypervisor/e2e" "hypervisor/workload/image" "hypervisor/workload/public" "hypervisor/flake.nix" "hypervisor/flake.lock" ];
  keep = path: type:
    let rel = relative path; in
    rel == "package.json" || rel == "hypervisor" ||
    (builtins.substring 0 11 rel == "hypervisor/"
      && !(builtins.elem rel excluded) && baseNameOf rel != "testing"
      && !(hasSuffix ".test.ts" rel) && !(hasSuffix ".spec.ts" rel) && !(hasSuffix ".md" rel));
  source = builtins.path { path = ../.; name = "choiros-source"; filter = keep; };

  # npm dependencies pinned by package-lock.json's hashes.
  lockfile = builtins.path {
    path = ../.;
    name = "choiros-npm-lock";
    filter = path: type: builtins.elem (relative path) [ "package.json" "package-lock.json" ];
  };
  nodeModules = pkgs.importNpmLock.buildNodeModules { npmRoot = lockfile; nodejs = pkgs.nodejs_24; };

  desktopAssets = builtins.path { path = ../hypervisor/workload/public; name = "choiros-desktop-assets"; };
  version = (builtins.fromJSON (builtins.readFile ../package.json)).version;
  node = "${pkgs.nodejs_24}/bin/node";
in
rec {
  # The desktop UI the sandbox serves at /: static assets only.
  desktop = pkgs.runCommand "choiros-desktop-${version}" { } ''
    mkdir -p $out/share/choiros-desktop
    cp -R ${desktopAssets}/. $out/share/choiros-desktop/
  '';

  # The program both entry points run: the TypeScript sources (Node 24 strips the types), their npm
  # dependencies, and the desktop assets where hypervisor/workload/desktop.ts looks for them.
  app = pkgs.runCommand "choiros-app-${version}" { } ''
    mkdir -p $out/lib/choiros
    cp -R ${source}/. $out/lib/choiros/
    chmod -R u+w $out/lib/choiros
    ln -s ${nodeModules}/node_modules $out/lib/choiros/node_modules
    ln -s ${desktop}/share/choiros-desktop $out/lib/choiros/hypervisor/workload/public
  '';

  # bin/choiros-sandbox: the sandbox workload (hypervisor/workload/README.md lists its environment).
  sandbox = pkgs.runCommand "choiros-sandbox-${version}" { } ''
    mkdir -p $out/bin
    cat > $out/bin/choiros-sandbox <<SCRIPT
    #!${pkgs.runtimeShell}
    exec ${node} ${app}/lib/choiros/hypervisor/workload/main.ts "\$@"
    SCRIPT
    chmod +x $out/bin/choiros-sandbox
  '';

  # bin/choiros-hypervisor: the control plane, configured by the usual HYPERVISOR_* / SANDBOX_* /
  # WEBAUTHN_* environment (README.md, "Running the hypervisor").
  hypervisor = pkgs.runCommand "choiros-hypervisor-${version}" { } ''
    mkdir -p $out/bin
    cat > $out/bin/choiros-hypervisor <<SCRIPT
    #!${pkgs.runtimeShell}
    exec ${node} ${app}/lib/choiros/hypervisor/main.ts "\$@"
    SCRIPT
    chmod +x $out/bin/choiros-hypervisor
  '';
}
