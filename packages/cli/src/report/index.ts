/** The self-contained HTML report: its data model, the adapters that fill it, and the renderer. */
export type {
  ReportData,
  ReportDim,
  ReportIo,
  ReportModelSummary,
  ReportOptimized,
  ReportPassChange,
  ReportVerification,
  ReportOutputComparison,
  ReportLatency,
  ReportQuantized,
  ReportQuantizedError,
  ReportLatencyStats,
  ReportLayerTime,
  ReportCrash,
  RenderOptions,
} from './types.js';
export { renderReport, reportSections, SECTION_IDS, DATA_ELEMENT_ID, type SectionId } from './render.js';
export { validateReportData } from './validate.js';
export {
  summarizeModel,
  passChanges,
  optimizedData,
  verificationData,
  latencyFromVerify,
  latencyFromBenchPair,
  layerTimes,
  crashData,
  refuseOversizedReport,
  MAX_REPORT_LAYERS,
  type SummarizeOptions,
} from './adapters.js';
export { escapeHtml, jsonForScript } from './escape.js';
export { chartJsPath, chartJsSource } from './chart-library.js';
export { ReportError } from './errors.js';
