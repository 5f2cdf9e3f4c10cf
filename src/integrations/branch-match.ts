/** Branch globbing is a domain rule (the pipeline file's `when.branch` uses it too); re-exported for the webhook matcher. */
export { branchMatches, splitPatterns } from '../domain/branch-match.js';
