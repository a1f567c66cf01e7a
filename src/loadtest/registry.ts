// The scenario registry: one module per scenario (scenarios/*.ts), each implementing Scenario
// (scenario.ts). The upload and search scenarios join by adding a module and a line to SCENARIOS.
import type { Scenario } from './scenario.js';
import { wsScenario } from './scenarios/ws.js';
import { messagesScenario } from './scenarios/messages.js';
import { apiScenario } from './scenarios/api.js';

export type { Aggregate, Plan, PrepareContext, Scenario, ScenarioSummary, WorkerContext } from './scenario.js';

export const SCENARIOS: Record<string, Scenario> = {
  ws: wsScenario,
  messages: messagesScenario,
  api: apiScenario,
  // upload: uploadScenario,  (issue: file uploads — once POST /api/files exists)
  // search: searchScenario,  (issue: search — once GET /api/search exists)
};
