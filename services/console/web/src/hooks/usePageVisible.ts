// Whether the page is visible (document.visibilityState): live pictures stop streaming while
// the tab is hidden and resume when it shows again.
import { useEffect, useState } from 'preact/hooks';

export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}
