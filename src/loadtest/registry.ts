// The scenario registry: one module per scenario (scenarios/*.ts), each implementing Scenario
// (scenario.ts). The upload and search scenarios join by adding a module and a line to SCENARIOS.
import type { Scenario } from './scenario.js';
import { wsScenario } from './scenarios/ws.js';
import { messagesScenario } from './scenarios/messages.js';
import { apiScenario } from './scenarios/api.js';
import { filesScenario } from './scenarios/files.js';
import { searchScenario } from './scenarios/search.js';

export type { Aggregate, Plan, PrepareContext, Scenario, ScenarioSummary, WorkerContext } from './scenario.js';

export const SCENARIOS: Record<string, Scenario> = {
  ws: wsScenario,
  messages: messagesScenario,
  api: apiScenario,
  files: filesScenario,
  search: searchScenario,
};
