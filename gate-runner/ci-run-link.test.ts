import { describe, expect, it } from 'vitest';
import { ciRunLink } from './ci-run-link.ts';

const actions = { GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.example/', GITHUB_REPOSITORY: 'choiros/gates', GITHUB_RUN_ID: '987' };

describe('the link to this CI run', () => {
  it('is SERVER/REPOSITORY/actions/runs/ID under GitHub Actions, one slash after the server', () => {
    expect(ciRunLink(actions)).toBe('https://github.example/choiros/gates/actions/runs/987');
    expect(ciRunLink({ ...actions, GITHUB_SERVER_URL: 'https://github.example//' })).toBe('https://github.example/choiros/gates/actions/runs/987');
  });

  it('ignores whitespace around the variables', () => {
    expect(ciRunLink({ ...actions, GITHUB_REPOSITORY: ' choiros/gates\n', GITHUB_RUN_ID: ' 987 ' })).toBe('https://github.example/choiros/gates/actions/runs/987');
  });

  it('is undefined outside GitHub Actions, or when a variable is missing, blank or the run id is not a number', () => {
    expect(ciRunLink({ ...actions, GITHUB_ACTIONS: 'false' })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_ACTIONS: undefined })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_SERVER_URL: ' ' })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_REPOSITORY: undefined })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_RUN_ID: '987/../../evil' })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_RUN_ID: '' })).toBeUndefined();
    expect(ciRunLink({ ...actions, GITHUB_RUN_ID: 'evil/987' })).toBeUndefined();
  });
});
