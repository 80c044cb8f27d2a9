import { describe, expect, it } from 'vitest';
import { secretMasker } from '../src/secrets.js';

describe('secretMasker', () => {
  it('masks each value, the longest first, and keeps what is around it', () => {
    const mask = secretMasker(['https://hooks.example.com/services/T0/B0/tok3n', '/services/T0/B0/tok3n', 'R0UT1NGKEY', 'ab', '', null]);
    expect(mask('POST https://hooks.example.com/services/T0/B0/tok3n\nfailed; key R0UT1NGKEY; path /services/T0/B0/tok3n; ab stays')).toBe(
      'POST [redacted]\nfailed; key [redacted]; path [redacted]; ab stays',
    );
  });

  it('leaves text alone with no secret long enough to mask', () => {
    expect(secretMasker(['a', undefined])('a banana')).toBe('a banana');
  });

  it('masks secrets by their shape only when asked (a run error quoting a webhook the environment does not hold)', () => {
    const text =
      "POST https://hooks.slack.com/services/T0ABC/B0DEF/xyzToken123 failed; token xoxb-1234-5678-abcd; db postgres://etl:s3cr3t@db.internal:5432/nba; 'https://hooks.slack.com/workflows/T1/A2/3/x'";
    expect(secretMasker([])(text)).toBe(text);
    expect(secretMasker([], { byShape: true })(text)).toBe(
      "POST [redacted] failed; token [redacted]; db postgres://etl:[redacted]@db.internal:5432/nba; '[redacted]'",
    );
    // Ordinary URLs and words stay.
    const plain = 'GET https://nba.example.com/gamebook/1.pdf timed out; see http://user@host/x and a:b@c, git@github.com:org/repo, ssh://git@host:22/x, ops@example.com';
    expect(secretMasker([], { byShape: true })(plain)).toBe(plain);
    // A password without a user (redis://:password@host) is one too.
    expect(secretMasker([], { byShape: true })('redis://:hunter2@cache:6379 refused')).toBe('redis://:[redacted]@cache:6379 refused');
  });

  it("stops at a backslash, so that a JSON line's escapes survive the mask", () => {
    const line = JSON.stringify({ message: 'slack: POST "https://hooks.slack.com/services/T1/B1/x" failed\nretrying' });
    const masked = secretMasker([], { byShape: true })(line);
    expect(JSON.parse(masked)).toEqual({ message: 'slack: POST "[redacted]" failed\nretrying' });
  });
});
