import { describe, expect, it } from 'vitest';
import { parseQueueRef } from '../../../src/domain/merge-groups.js';

const SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

describe('parseQueueRef: the base branch and PR of a merge queue branch', () => {
  it('reads the base branch and the PR from the queue branch, with or without refs/heads/', () => {
    expect(parseQueueRef(`refs/heads/gh-readonly-queue/main/pr-42-${SHA}`)).toEqual({ baseRef: 'main', numbers: [42] });
    expect(parseQueueRef(`gh-readonly-queue/main/pr-42-${SHA}`)).toEqual({ baseRef: 'main', numbers: [42] });
  });

  it('keeps slashes in the base branch and never takes a PR number from it', () => {
    expect(parseQueueRef(`gh-readonly-queue/release/pr-5/pr-7-${SHA}`)).toEqual({ baseRef: 'release/pr-5', numbers: [7] });
  });

  it('answers null for any other branch', () => {
    for (const ref of [null, undefined, '', 'main', 'feature/pr-3-abc', `gh-readonly-queue/main/${SHA}`, `other/gh-readonly-queue/main/pr-1-${SHA}`]) {
      expect(parseQueueRef(ref)).toBeNull();
    }
  });
});
