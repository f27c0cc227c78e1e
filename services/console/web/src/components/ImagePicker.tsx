// Picks image files: a real file input (keyboard) inside a drop zone (drag and drop), and
// optionally the clipboard (paste anywhere on the page while mounted).
import { useEffect, useRef, useState } from 'preact/hooks';

const isImage = (f: File) => /^image\/(jpeg|png)$/.test(f.type) || /\.(jpe?g|png)$/i.test(f.name);

export function ImagePicker({ id, label, onFiles, multiple = false, paste = false, testid, disabled = false }:
    { id: string; label: string; onFiles: (f: File[]) => void; multiple?: boolean; paste?: boolean; testid?: string; disabled?: boolean }) {
  const [over, setOver] = useState(false);
  const [note, setNote] = useState('');
  const cb = useRef(onFiles);
  cb.current = onFiles;
  const take = (list: FileList | File[] | null | undefined) => {
    const files = [...(list ?? [])];
    const ok = files.filter(isImage);
    setNote(files.length && ok.length < files.length ? 'Only JPEG and PNG images are accepted.' : '');
    if (ok.length) cb.current(multiple ? ok : ok.slice(0, 1));
  };
  useEffect(() => {
    if (!paste) return;
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length) { e.preventDefault(); take(files); }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [paste]);
  return (
    <div class={`drop ${over ? 'over' : ''}`}
         onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
         onDrop={(e) => { e.preventDefault(); setOver(false); if (!disabled) take(e.dataTransfer?.files); }}>
      <label for={id}>{label}</label>
      <input id={id} type="file" accept="image/jpeg,image/png" multiple={multiple} disabled={disabled} data-testid={testid}
             onChange={(e) => { const i = e.target as HTMLInputElement; take(i.files); i.value = ''; }} />
      <span class="muted small">or drop {multiple ? 'images' : 'an image'} here{paste ? ', or paste one' : ''} (JPEG/PNG, up to 5 MiB)</span>
      {note && <span class="field-error" role="alert">{note}</span>}
    </div>
  );
}
