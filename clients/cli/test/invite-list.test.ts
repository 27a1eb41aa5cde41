import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInviteList } from '../src/commands/invite-list.ts';
import { UsageError } from '../src/prompt.ts';

/** A wrong call (exit status 2) with this message. */
const usageError = (message: string) => (error: unknown) => error instanceof UsageError && error.message === message;

describe('an invitation list', () => {
  it('reads an address a line or email,role lines, skipping a header, blanks and comments', () => {
    const text = ['Email, Role', '# first the team', 'ana@x.test, developer', '', '"bo@x.test","Admin"', 'cy@x.test', 'di@x.test,'].join('\r\n');
    assert.deepEqual(parseInviteList(text, 'team.csv', 'VIEWER'), [
      { email: 'ana@x.test', role: 'DEVELOPER' },
      { email: 'bo@x.test', role: 'ADMIN' },
      { email: 'cy@x.test', role: 'VIEWER' },
      { email: 'di@x.test', role: 'VIEWER' },
    ]);
  });

  it('names the line of a bad entry', () => {
    assert.throws(
      () => parseInviteList('a@x.test\n\nb@x.test,boss\n', 'team.csv', 'VIEWER'),
      usageError('team.csv:3: The role must be one of OWNER, ADMIN, DEVELOPER, VIEWER'),
    );
    assert.throws(() => parseInviteList('a@x.test,viewer,extra', 'team.csv', 'VIEWER'), usageError('team.csv:1: expected an address, or address,role'));
    assert.throws(() => parseInviteList('a@x.test\n,viewer', 'team.csv', 'VIEWER'), usageError('team.csv:2: the address is missing'));
  });

  it('takes email only as the header of the first line', () => {
    assert.deepEqual(parseInviteList('a@x.test\nemail', 'l', 'OWNER'), [
      { email: 'a@x.test', role: 'OWNER' },
      { email: 'email', role: 'OWNER' },
    ]);
  });
});
