import { describe, expect, it } from 'vitest';
import { evaluateModule, ModuleEvalError, type ModuleSettings } from './module-eval.ts';
import { maximumExposure, unitExposure } from './exposure.ts';

/** Every variable the cloudwatch options may set: the publisher's and the AWS SDK's. */
const publishingVariable = /^(HYPERVISOR_CLOUDWATCH|AWS_)/;

/** Each option a value of its own, none its default, so a variable filled from the wrong option shows. */
const publishing = {
  enable: true,
  region: 'eu-central-1',
  namespace: 'ChoirOS/GateModule',
  endpoint: 'http://127.0.0.1:45123',
  host: 'choiros-host-7',
  intervalSecs: 17,
  credentialsFile: '/run/secrets/choiros-cloudwatch-credentials',
};

function publishingEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => publishingVariable.test(name)));
}

describe('services.choiros-hypervisor.cloudwatch (lib.evalModules, for real)', () => {
  it('is off by default: no publishing variable, no credential, no warning', async () => {
    const evaluation = await evaluateModule({});
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.warnings).toEqual([]);
    expect(evaluation.options.cloudwatch).toMatchObject({ enable: false, region: null, endpoint: null, credentialsFile: null });
    expect(publishingEnvironment(evaluation.service.environment)).toEqual({});
    expect(evaluation.service.serviceConfig.LoadCredential).toEqual([]);
    expect(evaluation.unitText).not.toMatch(/CLOUDWATCH|AWS_/);
  });

  it('on: sets each variable the publisher reads from its own option, and points the AWS SDK at the credential by path', async () => {
    const evaluation = await evaluateModule({ cloudwatch: publishing });
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.warnings).toEqual([]);
    expect(publishingEnvironment(evaluation.service.environment)).toEqual({
      HYPERVISOR_CLOUDWATCH: 'on',
      HYPERVISOR_CLOUDWATCH_REGION: 'eu-central-1',
      HYPERVISOR_CLOUDWATCH_NAMESPACE: 'ChoirOS/GateModule',
      HYPERVISOR_CLOUDWATCH_ENDPOINT: 'http://127.0.0.1:45123',
      HYPERVISOR_CLOUDWATCH_HOST: 'choiros-host-7',
      HYPERVISOR_CLOUDWATCH_INTERVAL_SECS: '17',
      // %d: systemd's credentials directory for this unit ($CREDENTIALS_DIRECTORY).
      AWS_SHARED_CREDENTIALS_FILE: '%d/cloudwatch-credentials',
    });
    expect(evaluation.service.serviceConfig.LoadCredential).toEqual(['cloudwatch-credentials:/run/secrets/choiros-cloudwatch-credentials']);
    expect(evaluation.service.unitConfig.AssertPathExists).toEqual(['/run/secrets/choiros-cloudwatch-credentials']);
    expect(evaluation.unitText).toMatch(/^LoadCredential=cloudwatch-credentials:\/run\/secrets\/choiros-cloudwatch-credentials$/m);
  });

  it("on with only a region: AWS's endpoint, the machine's host name, the publisher's namespace and interval, the SDK's default chain", async () => {
    const evaluation = await evaluateModule({ cloudwatch: { enable: true, region: 'us-west-2' } });
    expect(evaluation.failed).toEqual([]);
    expect(publishingEnvironment(evaluation.service.environment)).toEqual({
      HYPERVISOR_CLOUDWATCH: 'on',
      HYPERVISOR_CLOUDWATCH_REGION: 'us-west-2',
      HYPERVISOR_CLOUDWATCH_NAMESPACE: 'ChoirOS/Hypervisor',
      HYPERVISOR_CLOUDWATCH_INTERVAL_SECS: '60',
    });
    expect(evaluation.service.serviceConfig.LoadCredential).toEqual([]);
    expect(evaluation.service.unitConfig).toEqual({});
  });

  it('never puts the credentials file in the Environment: only systemd reads it (LoadCredential), next to the admin token', async () => {
    const evaluation = await evaluateModule({ adminTokenFile: '/run/secrets/admin-token', cloudwatch: publishing });
    const environmentLines = evaluation.unitText.split('\n').filter((line) => line.startsWith('Environment='));
    expect(environmentLines.length).toBeGreaterThan(0);
    expect(environmentLines.filter((line) => /choiros-cloudwatch-credentials|aws_access_key_id|aws_secret_access_key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN/.test(line))).toEqual([]);
    expect(evaluation.service.serviceConfig.LoadCredential).toEqual(['admin-token:/run/secrets/admin-token', 'cloudwatch-credentials:/run/secrets/choiros-cloudwatch-credentials']);
    expect(evaluation.unitText).toMatch(/^AssertPathExists=\/run\/secrets\/admin-token\nAssertPathExists=\/run\/secrets\/choiros-cloudwatch-credentials$/m);
  });

  it(`keeps the unit hardened with publishing on (exposure at most ${maximumExposure})`, async () => {
    const report = await unitExposure((await evaluateModule({ cloudwatch: publishing })).unitText);
    expect(report.exposure).toBeLessThanOrEqual(maximumExposure);
  });

  it.each([
    [{ enable: true }, 'services.choiros-hypervisor.cloudwatch.enable = true needs cloudwatch.region, the AWS region the figures go to (for example "eu-central-1")'],
    [{ enable: true, region: 'us-east-1', namespace: 'AWS/EC2' }, 'services.choiros-hypervisor.cloudwatch.namespace (AWS/EC2) starts with AWS/, which CloudWatch keeps for AWS\'s own services'],
    [{ enable: true, region: 'us-east-1', credentialsFile: '/nix/store/00000000000000000000000000000000-aws-credentials' }, 'services.choiros-hypervisor.cloudwatch.credentialsFile (/nix/store/00000000000000000000000000000000-aws-credentials) is in the Nix store, which every user can read'],
  ])('fails the assertion for the contradictory settings cloudwatch = %j', async (cloudwatch, message) => {
    const { failed } = await evaluateModule({ cloudwatch });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain(message);
  });

  it('warns when publishing settings are given with publishing off, and sets nothing', async () => {
    const evaluation = await evaluateModule({ cloudwatch: { region: 'eu-central-1', credentialsFile: '/run/secrets/cw' } });
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.warnings).toEqual([expect.stringContaining('services.choiros-hypervisor.cloudwatch has region, endpoint or credentialsFile set but cloudwatch.enable = false: nothing is published')]);
    expect(publishingEnvironment(evaluation.service.environment)).toEqual({});
    expect(evaluation.service.serviceConfig.LoadCredential).toEqual([]);
  });

  it.each<[ModuleSettings, RegExp]>([
    [{ region: 'Frankfurt' }, /services\.choiros-hypervisor\.cloudwatch\.region' is not of type `null or string matching the pattern/],
    [{ intervalSecs: 0 }, /services\.choiros-hypervisor\.cloudwatch\.intervalSecs' is not of type `integer between 1 and 3600/],
    [{ endpoint: '127.0.0.1:5000' }, /services\.choiros-hypervisor\.cloudwatch\.endpoint' is not of type `null or string matching the pattern/],
    [{ host: 'two words' }, /services\.choiros-hypervisor\.cloudwatch\.host' is not of type `null or string matching the pattern/],
    [{ credentialsFile: 'relative/credentials' }, /services\.choiros-hypervisor\.cloudwatch\.credentialsFile' is not of type `null or absolute path'/],
  ])('refuses the bad value cloudwatch = %j with a message naming the option and its type', async (cloudwatch, message) => {
    const error = await evaluateModule({ cloudwatch: { enable: true, region: 'us-east-1', ...cloudwatch } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModuleEvalError);
    expect((error as ModuleEvalError).message).toMatch(message);
  });
});
