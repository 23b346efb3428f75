# The Phase 4 EC2 host: the hypervisor behind nothing but its own port for now (TLS comes with the
# host's proxy), SSH by key only, the admin token a root-only file put there at provisioning time.
{ ... }:
{
  system.stateVersion = "26.05";
  networking.hostName = "choiros-host";

  services.openssh = {
    enable = true;
    settings = {
      PasswordAuthentication = false;
      KbdInteractiveAuthentication = false;
      PermitRootLogin = "prohibit-password";
    };
  };

  services.choiros-hypervisor = {
    enable = true;
    host = "0.0.0.0";
    port = 9090;
    openFirewall = true;
    runtime = "podman";
    sandboxImage = "localhost/choir-sandbox:0.1.0";
    adminTokenFile = "/var/lib/choiros-secrets/admin-token";
    webauthn = {
      rpId = "choiros-host";
      rpOrigin = "http://choiros-host:9090";
    };
  };
}
