// Types for eslint.boundaries.js, which eslint.config.js (plain JavaScript) and test/unit/boundaries.test.ts share.
import type { Linter } from 'eslint';

export declare const innerRestrictions: readonly Record<string, unknown>[];
export declare const pureRestrictions: readonly Record<string, unknown>[];
export declare const botRestrictions: readonly Record<string, unknown>[];
export declare const demoRestrictions: readonly Record<string, unknown>[];
export declare const boundaries: Linter.Config[];
