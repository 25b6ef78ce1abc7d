import type { App } from '@slack/bolt';
import type { Workspace } from '../../commands/accounts.ts';
import { WORKFLOW_STEPS, type StepResult, type WorkflowSteps } from '../../commands/workflow.ts';
import type { Logger } from '../../log.ts';

/**
 * The Workflow Builder steps (`function_executed`, over HTTP or Socket Mode): each ends with
 * `functions.completeSuccess` (its outputs) or `functions.completeError` (a sentence saying why), sent with the
 * execution's own token, as Bolt's `complete` and `fail` do.
 */
export function registerFunctions(app: App, steps: WorkflowSteps, log: Logger): void {
  const run = {
    [WORKFLOW_STEPS.list]: steps.list.bind(steps),
    [WORKFLOW_STEPS.get]: steps.get.bind(steps),
    [WORKFLOW_STEPS.delete]: steps.delete.bind(steps),
  } satisfies Record<string, (workspace: Workspace, inputs: Record<string, unknown>) => Promise<StepResult>>;
  for (const [callbackId, step] of Object.entries(run)) {
    app.function(callbackId, async ({ inputs, complete, fail, context }) => {
      // The workspace as Bolt's `authorize` resolved it, never as the payload names it.
      const result = await step(
        {
          teamId: context.teamId,
          enterpriseId: context.enterpriseId,
          isEnterpriseInstall: context.isEnterpriseInstall,
        },
        inputs,
      );
      try {
        if (result.ok) await complete({ outputs: result.outputs });
        else await fail({ error: result.error });
      } catch (error) {
        log.warn('workflow: the step’s completion could not be sent to Slack', { step: callbackId, error });
      }
    });
  }
}
