/**
 * The real GitHub port's look-up of an already posted reply (`findMarkedComment`), against the fake
 * GitHub API in-process: newest page first, back to the command comment, this app's bot's comment only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OctokitPort } from '../../../src/github/octokit-port.js';
import { FakeGitHub } from '../../fake-github/index.js';
import { probotOn, realPort } from '../../support/real-port.js';

const LIST = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';

let fake: FakeGitHub;
let port: OctokitPort;
const ref = { owner: 'acme', repo: 'api' };

beforeAll(async () => {
  fake = await FakeGitHub.start();
  fake.addInstallation({ id: 7, account: 'acme' });
  fake.addRepo('acme', 'api');
  port = await realPort(probotOn(fake, { throttle: false }), 7);
});

afterAll(async () => {
  await fake?.stop();
});

describe('OctokitPort.findMarkedComment', () => {
  it('finds the bot comment with the marker on the newest page, reading no page older than the command', async () => {
    const issue = fake.addIssue('acme', 'api', { title: 'Busy thread' });
    for (let i = 0; i < 120; i++) fake.addComment('acme', 'api', issue, { body: `chatter ${i}`, user: 'octocat' });
    const command = fake.addComment('acme', 'api', issue, { body: '/freeze', user: 'wendy' });
    const marker = `<!-- moratorium:reply ${command.id} -->`;
    // a person quoting the marker does not count, nor another app's bot, nor this app's comment without it
    fake.addComment('acme', 'api', issue, { body: `copy: ${marker}`, user: 'mallory' });
    fake.addComment('acme', 'api', issue, { body: `echo: ${marker}`, user: 'echo-app[bot]' });
    await port.createComment(ref, issue, 'an unrelated bot comment');
    // this app's reply to another comment, quoting a command line that holds the marker in a code span
    await port.createComment(ref, issue, `\`/freeze ${marker}\`\nRefused.\n\n<!-- moratorium:reply 1 -->`);
    for (let i = 0; i < 100; i++) fake.addComment('acme', 'api', issue, { body: `more ${i}`, user: 'octocat' });
    expect(await port.findMarkedComment(ref, issue, marker, command.id)).toBeNull();

    const before = fake.requestsTo(LIST).length;
    const id = await port.createComment(ref, issue, `Froze this repository.\n\n${marker}`);
    for (let i = 0; i < 10; i++) fake.addComment('acme', 'api', issue, { body: `after ${i}`, user: 'octocat' });
    expect(await port.findMarkedComment(ref, issue, marker, command.id)).toBe(id);
    // 236 comments: page 1 (for the last page's number), then page 3 where the reply is
    expect(fake.requestsTo(LIST).slice(before).map((r) => r.query.page)).toEqual(['1', '3']);
  });

  it('ignores a marked bot comment older than the command, and stops at the page holding the command', async () => {
    const issue = fake.addIssue('acme', 'api', { title: 'Old reply' });
    const old = fake.addComment('acme', 'api', issue, { body: '/freeze', user: 'wendy' });
    const marker = `<!-- moratorium:reply ${old.id} -->`;
    await port.createComment(ref, issue, `an old reply ${marker}`);
    for (let i = 0; i < 250; i++) fake.addComment('acme', 'api', issue, { body: `chatter ${i}`, user: 'octocat' });
    const later = fake.addComment('acme', 'api', issue, { body: '/freeze again', user: 'wendy' });
    for (let i = 0; i < 60; i++) fake.addComment('acme', 'api', issue, { body: `more ${i}`, user: 'octocat' });
    const before = fake.requestsTo(LIST).length;
    // the old reply names the old command, not the later one
    expect(await port.findMarkedComment(ref, issue, `<!-- moratorium:reply ${later.id} -->`, later.id)).toBeNull();
    // 313 comments, the later command on page 3: pages 1 (for the last page's number), 4, 3; not 2
    expect(fake.requestsTo(LIST).slice(before).map((r) => r.query.page)).toEqual(['1', '4', '3']);
    // a marked comment older than the command it is looked for after does not count
    expect(await port.findMarkedComment(ref, issue, marker, later.id)).toBeNull();
  });
});
