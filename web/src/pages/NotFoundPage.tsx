import { Link } from 'react-router-dom';
import { EmptyState } from '../components/Feedback';

export function NotFoundPage() {
  return (
    <div className="page">
      <div className="card">
        <EmptyState title="Page not found">
          <p>
            Nothing lives at this address. <Link to="/pipelines">Go to pipelines</Link>
          </p>
        </EmptyState>
      </div>
    </div>
  );
}
