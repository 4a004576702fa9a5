// The console's unit tests run Angular in JIT mode: @Injectable/@Component classes compile on
// first use, which needs the compiler loaded.
import '@angular/compiler';
