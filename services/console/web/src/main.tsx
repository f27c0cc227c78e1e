// Entry point: mounts the console app into #app.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './components/App';

render(<App />, document.getElementById('app')!);
