/** The bootstrap phases, in execution order (../shared/seed/bootstrap-execution-checklists.md). */
export interface Phase {
  id: 'phase1' | 'phase2' | 'phase3' | 'phase4' | 'phase5';
  folder: string;
  title: string;
}

export const phases: readonly Phase[] = [
  { id: 'phase1', folder: 'phase1-local-podman-smoke', title: 'Phase 1: Local Podman Smoke' },
  { id: 'phase2', folder: 'phase2-ci-cache', title: 'Phase 2: CI + FlakeHub Cache' },
  { id: 'phase3', folder: 'phase3-nixos-module', title: 'Phase 3: Hypervisor NixOS Module' },
  { id: 'phase4', folder: 'phase4-ec2-provisioning', title: 'Phase 4: EC2 NixOS Provisioning' },
  { id: 'phase5', folder: 'phase5-production-validation', title: 'Phase 5: Production Validation' },
];
