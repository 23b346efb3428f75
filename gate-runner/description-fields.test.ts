import { describe, expect, it } from 'vitest';
import { DescriptionFields, TargetDescriptionError } from './description-fields.ts';

const fields = (object: Record<string, unknown>) => new DescriptionFields('targets/prod.json', object, 'hypervisor');

describe('reading a target description field', () => {
  it('a string is trimmed; blank, or not a string, is refused naming the file and the dotted field; absent takes the default', () => {
    expect(fields({ url: '  https://h.example ' }).string('url', 'the URL')).toBe('https://h.example');
    expect(() => fields({ url: '   ' }).string('url', 'the URL')).toThrow('targets/prod.json: hypervisor.url must be a non-empty string: the URL.');
    expect(() => fields({ url: 7 }).string('url', 'the URL')).toThrow(TargetDescriptionError);
    expect(fields({}).string('url', 'the URL', 'http://127.0.0.1:9090')).toBe('http://127.0.0.1:9090');
    expect(() => fields({}).string('url', 'the URL')).toThrow('targets/prod.json: hypervisor.url is missing: set it to the URL.');
  });

  it('an integer is whole and within its bounds, both ends included', () => {
    const read = (value: unknown) => fields({ port: value }).integer('port', 1, 65535, 22);
    expect([read(1), read(65535), read(undefined)]).toEqual([1, 65535, 22]);
    for (const bad of [0, 65536, 22.5, '22']) expect(() => read(bad), String(bad)).toThrow(`hypervisor.port is ${JSON.stringify(bad)}: use a whole number from 1 to 65535 (default 22).`);
  });

  it('a URL loses its trailing slashes, query and fragment, and must use one of the allowed schemes', () => {
    expect(fields({ url: 'https://h.example/base//?q=1#f' }).url('url', 'the URL')).toBe('https://h.example/base');
    expect(() => fields({ url: 'ftp://h.example' }).url('url', 'the URL')).toThrow('hypervisor.url is "ftp://h.example": it must be a http or https URL.');
    expect(() => fields({ url: 'h.example' }).url('url', 'the URL')).toThrow('hypervisor.url is "h.example", which is not a URL');
  });

  it('a list holds only non-blank strings, trimmed', () => {
    expect(fields({ cidrs: [' 203.0.113.7/32 '] }).strings('cidrs', 'CIDR blocks')).toEqual(['203.0.113.7/32']);
    expect(() => fields({ cidrs: ['203.0.113.7/32', ' '] }).strings('cidrs', 'CIDR blocks')).toThrow('hypervisor.cidrs must be a list of CIDR blocks.');
    expect(() => fields({ cidrs: '203.0.113.7/32' }).strings('cidrs', 'CIDR blocks')).toThrow('hypervisor.cidrs must be a list of CIDR blocks.');
  });

  it('a section is an object read with its own dotted prefix', () => {
    const ssh = fields({ ssh: { port: 0 } }).section('ssh');
    expect(() => ssh?.integer('port', 1, 65535)).toThrow('targets/prod.json: hypervisor.ssh.port is 0');
    expect(() => fields({ ssh: ['host'] }).section('ssh')).toThrow('hypervisor.ssh must be an object.');
    expect(fields({}).section('ssh')).toBeUndefined();
  });

  it('refuses a key the reader does not know, naming it and the known ones (a typo would silently take a default)', () => {
    expect(() => fields({ url: 'https://h.example', adminTokn: 'x' }).onlyKeys(['url', 'adminToken'])).toThrow('targets/prod.json: hypervisor.adminTokn is not a known field: use one of url, adminToken.');
    expect(() => fields({ url: 'https://h.example' }).onlyKeys(['url', 'adminToken'])).not.toThrow();
  });

  it('takes a URL only in the schemes the field allows', () => {
    expect(() => fields({ url: 'http://h.example' }).url('url', 'the URL', ['https:'])).toThrow('hypervisor.url is "http://h.example": it must be a https URL.');
    expect(fields({ url: 'wss://h.example/ws/' }).url('url', 'the socket', ['wss:'])).toBe('wss://h.example/ws');
  });

  it('an error about the whole file names the file alone', () => {
    expect(new TargetDescriptionError('targets/prod.json', '', 'is not valid JSON.').message).toBe('targets/prod.json: is not valid JSON.');
  });
});
