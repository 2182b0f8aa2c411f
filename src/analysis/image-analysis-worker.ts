/** The entry of an image-analysis worker thread (see `image-analysis-pool.ts`). */
import { serveWorkerTasks } from '../workers/serve-worker-tasks.js';
import { analyzeImageFile } from './analyze-image.js';
import type { ImageAnalysisTask } from './image-analysis-pool.js';

serveWorkerTasks((task: ImageAnalysisTask) => analyzeImageFile(task.path, task.maxPixels));
