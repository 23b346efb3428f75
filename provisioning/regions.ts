import { VPCRegion } from '@aws-sdk/client-route-53';

/**
 * The regions AWS has, as the SDK this checkout ships knows them (every region with VPCs, which is
 * every region EC2 runs in). A region outside it is a typo or newer than the SDK: either way the
 * real endpoint would not answer, so it is refused before anything is sent.
 */
export const knownRegions: readonly string[] = Object.values(VPCRegion);
