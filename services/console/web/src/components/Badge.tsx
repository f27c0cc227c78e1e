// A coloured state badge (service health, model state, stream state): green for serving/ready/
// running, red for failed/unreachable, amber otherwise.
import { enumLabel } from '../format';

const tone = (s: string) => (['SERVING', 'READY', 'RUNNING'].includes(s) ? 'ok'
  : ['NOT_SERVING', 'UNREACHABLE', 'FAILED'].includes(s) ? 'bad' : 'warn');

export const Badge = ({ state, testid }: { state: string; testid?: string }) =>
  <span class={`badge ${tone(state)}`} data-testid={testid} data-state={state}>{enumLabel(state) || 'unknown'}</span>;
