import { createRoot } from 'react-dom/client';
import { App } from './components/App.js';
import { Chat } from './chat.js';
import { ChatContext } from './hooks.js';
import './styles.css';

const chat = new Chat();
createRoot(document.getElementById('root')!).render(
  <ChatContext.Provider value={chat}>
    <App />
  </ChatContext.Provider>,
);
