// A destructive action in two steps without a modal: the first press asks, the second (the
// "Confirm" button that replaces it) acts; "Cancel" or Escape backs out.
import { useEffect, useRef, useState } from 'preact/hooks';

export function ConfirmButton({ label, confirmLabel = 'Confirm', onConfirm, testid, disabled = false }:
    { label: string; confirmLabel?: string; onConfirm: () => void | Promise<void>; testid?: string; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => { if (asking) confirmRef.current?.focus(); }, [asking]);
  if (!asking) {
    return <button type="button" class="small danger" disabled={disabled} data-testid={testid} onClick={() => setAsking(true)}>{label}</button>;
  }
  const go = async () => { setBusy(true); try { await onConfirm(); } finally { setBusy(false); setAsking(false); } };
  return (
    <span class="confirm" onKeyDown={(e) => { if (e.key === 'Escape') setAsking(false); }}>
      <button ref={confirmRef} type="button" class="small danger" disabled={busy} data-testid={testid && `${testid}-confirm`} onClick={go}>
        {busy ? 'Working…' : confirmLabel}</button>
      <button type="button" class="small secondary" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}
